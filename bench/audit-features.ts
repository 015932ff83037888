/**
 * Plain MobileNetV2 features as the extract stage computes them (cut at out_relu, 128 px,
 * preprocessing "tf", each row [avg pooled | max pooled]), for the audit's measurement scripts.
 * `cachedFeatures` keeps them in a file so a second measurement skips the model.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { batches } from "../src/data/loader";
import { featureExtractor } from "../src/models/graph";
import { poolSettings } from "../src/models/onnx/workers";
import { loadArtifacts } from "../src/models/source";
import { ROOT, type Item } from "./common";

export async function features(items: Item[], size = 128): Promise<Float32Array> {
  const workers = poolSettings();
  const fe = await featureExtractor(loadArtifacts("mobilenet_v2", ROOT), "out_relu", [size, size], { batch: workers.batch, workers });
  const parts: Float32Array[] = [];
  try {
    for await (const b of batches(items, { size: [size, size], colorMode: "rgb", maxPixels: 1e8, interpolation: "bilinear", preprocessing: "tf", batchSize: 32 })) {
      parts.push((await fe.rowsAsync(b.x, b.n)).slice());
    }
  } finally {
    fe.dispose();
  }
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) out.set(p, off), (off += p.length);
  return out;
}

/** `features(items)`, read from `file` when it holds them for these same items. */
export async function cachedFeatures(items: Item[], file: string | undefined): Promise<Float32Array> {
  const key = JSON.stringify(items.map((it) => it.abs));
  if (file && existsSync(file) && existsSync(`${file}.json`) && readFileSync(`${file}.json`, "utf8") === key) {
    const b = readFileSync(file);
    return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
  }
  const f = await features(items);
  if (file) writeFileSync(file, new Uint8Array(f.buffer)), writeFileSync(`${file}.json`, key);
  return f;
}
