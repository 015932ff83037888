/**
 * Peak RSS of streaming extraction, run in its own process: the extract stage's loop (loader ->
 * base with its pooling on the inference workers -> [avg | max] rows -> FeatureWriter on disk, a
 * batch per worker in flight, the loader's buffers reused) over the first `--limit` images of
 * `dir`. Prints img/s, maxRSS and the tensor count, which must stay flat batch after batch.
 * Options come as one JSON argument: tfjs-node's binding loader parses process.argv (node-pre-gyp)
 * and misreads flags such as --dir.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FeatureWriter } from "../src/cache/features";
import { pixelCacheStats } from "../src/data/decode";
import { batches } from "../src/data/loader";
import { featureExtractor } from "../src/models/graph";
import { poolSettings } from "../src/models/onnx/workers";
import { loadArtifacts } from "../src/models/source";
import { ROOT, assertFlat, emit, listImages, numTensors, useBackend } from "./common";

async function main(): Promise<void> {
  const args = JSON.parse(process.argv[2] ?? "{}") as { dir: string; limit?: number; size?: number; backend?: string };
  await useBackend(args.backend ?? "native");
  const size = Number(args.size ?? 128);
  const items = listImages(args.dir).slice(0, Number(args.limit ?? 1000));
  const workers = poolSettings();
  const base = await featureExtractor(loadArtifacts("mobilenet_v2", ROOT), "out_relu", [size, size], { batch: workers.batch, workers }); // as the extract stage runs it
  const out = mkdtempSync(join(tmpdir(), "tlrun-bench-rss-"));
  const writer = new FeatureWriter(join(out, "plain.f32"), 2 * 1280);
  const counts: number[] = [];
  const rssMb: number[] = [];
  const t0 = performance.now();
  try {
    let b = 0;
    const queue: Array<Promise<Float32Array>> = [];
    const opts = { size: [size, size] as [number, number], colorMode: "rgb" as const, maxPixels: 1e8, interpolation: "bilinear" as const, preprocessing: "tf" as const, batchSize: 32, reuseBuffers: true };
    for await (const batch of batches(items, opts)) {
      queue.push(base.rowsAsync(batch.x, batch.n));
      if (queue.length >= Math.max(1, workers.workers)) writer.append(await queue.shift()!);
      if (b++ % 8 === 0) counts.push(numTensors()), rssMb.push(process.memoryUsage().rss / 2 ** 20);
    }
    for (const rows of queue) writer.append(await rows);
  } finally {
    writer.close();
    base.dispose();
    rmSync(out, { recursive: true, force: true });
  }
  const secs = (performance.now() - t0) / 1000;
  assertFlat(`streaming extraction of ${items.length} images`, counts);
  emit({
    images: items.length, size, img_per_s: items.length / secs, seconds: secs, rows: writer.rows,
    max_rss_mb: process.resourceUsage().maxRSS / 1024, forward: base.runner, rss_mb_samples: rssMb.map((v) => Math.round(v)), num_tensors: counts[0],
    pixel_cache_mb: pixelCacheStats().bytes / 2 ** 20,
  });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
