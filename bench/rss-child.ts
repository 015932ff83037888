/**
 * Peak RSS of streaming extraction, run in its own process: the extract stage's loop (loader ->
 * base -> [avg | max] pooled rows -> FeatureWriter on disk) over the first `--limit` images of
 * `dir`. Prints img/s, maxRSS and the tensor count, which must stay flat batch after batch.
 * Options come as one JSON argument: tfjs-node's binding loader parses process.argv (node-pre-gyp)
 * and misreads flags such as --dir.
 */
import * as tf from "@tensorflow/tfjs";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FeatureWriter } from "../src/cache/features";
import { batches } from "../src/data/loader";
import { buildBase } from "../src/models/build";
import { foldForInference } from "../src/models/fold";
import { fastInference } from "../src/models/compiled";
import { loadArtifacts } from "../src/models/source";
import { ROOT, assertFlat, emit, listImages, numTensors, useBackend } from "./common";

async function main(): Promise<void> {
  const args = JSON.parse(process.argv[2] ?? "{}") as { dir: string; limit?: number; size?: number; backend?: string };
  await useBackend(args.backend ?? "native");
  const size = Number(args.size ?? 128);
  const items = listImages(args.dir).slice(0, Number(args.limit ?? 1000));
  const model = await buildBase(loadArtifacts("mobilenet_v2", ROOT), "out_relu", [size, size]);
  const base = await fastInference(foldForInference(model), [32, size, size, 3]); // as the extract stage runs it
  const out = mkdtempSync(join(tmpdir(), "tlrun-bench-rss-"));
  const writer = new FeatureWriter(join(out, "plain.f32"), 2 * 1280);
  const counts: number[] = [];
  const rssMb: number[] = [];
  const t0 = performance.now();
  try {
    let b = 0;
    for await (const batch of batches(items, { size: [size, size], colorMode: "rgb", maxPixels: 1e8, interpolation: "bilinear", preprocessing: "tf", batchSize: 32 })) {
      const rows = tf.tidy(() => {
        const fm = base.predict(tf.tensor4d(batch.x, [batch.n, size, size, 3]))[0]!;
        return tf.concat([tf.mean(fm, [1, 2]), tf.max(fm, [1, 2])], 1);
      });
      writer.append((await rows.data()) as Float32Array);
      rows.dispose();
      if (b++ % 8 === 0) counts.push(numTensors()), rssMb.push(process.memoryUsage().rss / 2 ** 20);
    }
  } finally {
    writer.close();
    rmSync(out, { recursive: true, force: true });
  }
  const secs = (performance.now() - t0) / 1000;
  assertFlat(`streaming extraction of ${items.length} images`, counts);
  emit({
    images: items.length, size, img_per_s: items.length / secs, seconds: secs, rows: writer.rows,
    max_rss_mb: process.resourceUsage().maxRSS / 1024, forward: base.runner, rss_mb_samples: rssMb.map((v) => Math.round(v)), num_tensors: counts[0],
  });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
