/**
 * The probe's one forward pass with an output at each depth (src/models/pooled-depths.ts) must
 * give each depth the features the base cut there gives: the average half of the extract
 * stage's [avg | max] rows, on the embedded MobileNetV2, on the workers and in any order asked.
 */
import { before, test } from "node:test";
import assert from "node:assert/strict";
import { resolve } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { selectBackend } from "../../src/backend/select";
import { featureExtractor } from "../../src/models/graph";
import { depthFeatures } from "../../src/models/pooled-depths";
import { loadArtifacts } from "../../src/models/source";

const ROOT = resolve(__dirname, "../../..");
const SIZE: [number, number] = [64, 64];

before(async () => {
  await selectBackend("native");
});

/** max |a − b| / max |b|. */
function relErr(a: Float32Array, b: Float32Array): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < b.length; i++) diff = Math.max(diff, Math.abs(a[i]! - b[i]!)), (scale = Math.max(scale, Math.abs(b[i]!)));
  return diff / scale;
}

test("one pass at four depths gives each depth the pooled features of the base cut there", async () => {
  const a = loadArtifacts("mobilenet_v2", ROOT);
  const layers = ["block_10_project", "block_6_project", "out_relu", "block_13_project"]; // not in depth order on purpose
  const n = 5;
  const x = tf.tidy(() => tf.randomUniform([n, SIZE[0], SIZE[1], 3], -1, 1, "float32", 7).dataSync() as Float32Array);
  const multi = await depthFeatures(a, layers, SIZE, { batch: 4, workers: { workers: 2, threads: 1 } });
  let got: Float32Array[];
  try {
    got = await multi.rowsAsync(x, n);
  } finally {
    multi.dispose();
  }
  assert.equal(got.length, layers.length);
  for (const [d, layer] of layers.entries()) {
    const one = await featureExtractor(a, layer, SIZE, { batch: 4 });
    try {
      const dim = one.featureShape[one.featureShape.length - 1]!;
      assert.equal(multi.dims[d], dim, layer);
      const rows = one.rows(x, n);
      const avg = new Float32Array(n * dim);
      for (let i = 0; i < n; i++) avg.set(rows.subarray(i * 2 * dim, i * 2 * dim + dim), i * dim);
      assert.equal(got[d]!.length, n * dim, layer);
      const err = relErr(got[d]!, avg);
      assert.ok(err < 1e-5, `${layer}: relative difference ${err}`);
    } finally {
      one.dispose();
    }
  }
});
