/**
 * head.depths: which layers `blocks` names, and the extract stage's joined rows. Each half of a
 * row ([avg | max]) must join the pooled features of the base cut at each depth, shallow to deep,
 * then the cut's, as the head on several depths and the assembled model read them.
 */
import { before, test } from "node:test";
import assert from "node:assert/strict";
import { resolve } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { selectBackend } from "../../src/backend/select";
import { featureExtractor } from "../../src/models/graph";
import { headDepths, headDepthsOf, pooledDepthsOutput } from "../../src/models/head-depths";
import { baseLayers, resolveCut } from "../../src/models/layers";
import { buildBase } from "../../src/models/build";
import { loadArtifacts } from "../../src/models/source";

const ROOT = resolve(__dirname, "../../..");
const SIZE: [number, number] = [64, 64];

before(async () => {
  await selectBackend("native");
});

test("blocks: the last layer of every named block below the cut; a list in the base's order, without the cut", () => {
  const a = loadArtifacts("mobilenet_v2", ROOT);
  const atTop = headDepthsOf(a, "out_relu", "blocks");
  assert.equal(atTop.length, 17);
  assert.deepEqual(atTop.slice(0, 4), ["expanded_conv_project_BN", "block_1_project_BN", "block_2_add", "block_3_project_BN"]);
  assert.deepEqual(atTop.slice(-2), ["block_15_add", "block_16_project_BN"]);
  assert.deepEqual(headDepthsOf(a, "block_13_project", "blocks").slice(-1), ["block_12_add"], "only blocks below the cut");
  const names = baseLayers(a, resolveCut(a, "out_relu")).map((l) => l.name);
  assert.deepEqual(headDepths(names, ["block_13_project", "block_6_project", "out_relu"]), ["block_6_project", "block_13_project"]);
  assert.deepEqual(headDepths(names, undefined), []);
});

test("the extractor's rows join each depth's pooled features before the cut's, in both halves; the assembled graph computes the same", async () => {
  const a = loadArtifacts("mobilenet_v2", ROOT);
  const depths = ["block_6_project", "block_12_add"];
  const n = 3;
  const x = tf.tidy(() => tf.randomUniform([n, SIZE[0], SIZE[1], 3], -1, 1, "float32", 11).dataSync() as Float32Array);
  const joined = await featureExtractor(a, "out_relu", SIZE, { batch: 4, depths, workers: { workers: 2, threads: 1 } });
  let rows: Float32Array;
  try {
    rows = await joined.rowsAsync(x, n);
    assert.deepEqual(joined.depthDims, [64, 96, 1280]);
    assert.deepEqual(joined.featureShape, [64 + 96 + 1280]);
  } finally {
    joined.dispose();
  }
  const width = 64 + 96 + 1280;
  assert.equal(rows.length, n * 2 * width);
  let offset = 0;
  for (const layer of [...depths, "out_relu"]) {
    const one = await featureExtractor(a, layer, SIZE, { batch: 4 });
    try {
      const dim = one.featureShape[one.featureShape.length - 1]!;
      const own = one.rows(x, n);
      let diff = 0;
      let scale = 0;
      for (let i = 0; i < n; i++)
        for (let half = 0; half < 2; half++)
          for (let d = 0; d < dim; d++) {
            const want = own[i * 2 * dim + half * dim + d]!;
            diff = Math.max(diff, Math.abs(rows[i * 2 * width + half * width + offset + d]! - want));
            scale = Math.max(scale, Math.abs(want));
          }
      assert.ok(diff / scale < 1e-5, `${layer}: relative difference ${diff / scale}`);
      offset += dim;
    } finally {
      one.dispose();
    }
  }
  // the graph evaluate saves (classifier.ts) pools and joins the same way: its avg half
  const base = await buildBase(a, "out_relu", SIZE);
  try {
    const graph = tf.model({ inputs: base.inputs, outputs: pooledDepthsOutput(base, depths, "avg") });
    const got = tf.tidy(() => (graph.predict(tf.tensor4d(x, [n, SIZE[0], SIZE[1], 3])) as tf.Tensor).dataSync() as Float32Array);
    let diff = 0;
    for (let i = 0; i < n; i++) for (let d = 0; d < width; d++) diff = Math.max(diff, Math.abs(got[i * width + d]! - rows[i * 2 * width + d]!));
    assert.ok(diff < 1e-3, `assembled graph differs by ${diff}`);
  } finally {
    base.dispose();
  }
});
