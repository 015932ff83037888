/**
 * Grad-CAM on a synthetic task whose class is decided by a patch in one corner: class "patch"
 * has a bright square somewhere in the top-left quadrant of a noise texture, class "plain" has
 * none. A logistic head on the embedded MobileNetV2's pooled features learns it in a few epochs;
 * the heat map of a "patch" image must then put most of its mass in the top-left quadrant
 * (chance: a quarter), at the cut and at an earlier layer. Also: the panels and their order,
 * a residual architecture with a split that crosses a skip connection, and no leaked tensors.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import sharp from "sharp";
import * as tf from "@tensorflow/tfjs";
import { selectBackend } from "../../src/backend/select";
import { batches, type BatchOptions } from "../../src/data/loader";
import { UsageError } from "../../src/errors";
import type { ModelArtifacts } from "../../src/models/artifacts";
import { buildBase } from "../../src/models/build";
import { loadArtifacts } from "../../src/models/source";
import { resnetTopology } from "../../src/models/zoo/resnet";
import { vggTopology } from "../../src/models/zoo/vgg";
import { buildAttentionHead } from "../../src/training/attention-head";
import { buildHead } from "../../src/training/head";
import { explainImages } from "../../src/stages/explain";
import { gradCam } from "../../src/stages/grad-cam";
import { camBase } from "../../src/stages/grad-cam-model";
import { tempDir } from "../helpers";

const SIZE = 128;
const ROOT = join(__dirname, "..", "..", "..");
/** The corner test takes about 6 s on two cores: fast enough for the default loop. */
const LONG = { timeout: 5 * 60_000 };
const decode = (preprocessing: BatchOptions["preprocessing"]): Omit<BatchOptions, "batchSize"> =>
  ({ size: [SIZE, SIZE], colorMode: "rgb", maxPixels: 1e9, interpolation: "bilinear", preprocessing });

/** A deterministic generator (mulberry32), so the images are the same every run. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A grey noise texture, with a bright 28 px square near the top-left corner (within its first 44 px) when `patch`. */
async function writeImage(path: string, patch: boolean, r: () => number): Promise<void> {
  const px = Buffer.alloc(SIZE * SIZE * 3);
  for (let i = 0; i < SIZE * SIZE; i++) px.fill(Math.round(70 + 100 * r()), i * 3, i * 3 + 3);
  if (patch) {
    const side = 28, x0 = Math.floor(r() * 16), y0 = Math.floor(r() * 16);
    for (let y = y0; y < y0 + side; y++) for (let x = x0; x < x0 + side; x++) px.set([250, 240, 60], (y * SIZE + x) * 3);
  }
  await sharp(px, { raw: { width: SIZE, height: SIZE, channels: 3 } }).png().toFile(path);
}

async function dataset(dir: string, perClass: number, seed: number): Promise<Array<{ abs: string; label: number }>> {
  const r = rng(seed);
  const items: Array<{ abs: string; label: number }> = [];
  for (let i = 0; i < perClass; i++)
    for (const label of [0, 1]) {
      const abs = join(dir, `${seed}_${i}_${label}.png`);
      await writeImage(abs, label === 0, r);
      items.push({ abs, label });
    }
  return items;
}

/** Share of each map's mass in its top-left quadrant. */
function topLeftShare(maps: Float32Array, [h, w]: [number, number]): number[] {
  const n = maps.length / (h * w);
  return Array.from({ length: n }, (_, i) => {
    let all = 0, corner = 0;
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        const v = maps[i * h * w + y * w + x]!;
        all += v;
        if (y < h / 2 && x < w / 2) corner += v;
      }
    return corner / (all || 1);
  });
}

async function imagesTensor(items: Array<{ abs: string }>, pre: BatchOptions["preprocessing"]): Promise<tf.Tensor4D> {
  const parts: tf.Tensor4D[] = [];
  for await (const b of batches(items, { ...decode(pre), batchSize: 16 })) parts.push(tf.tensor4d(b.x.slice(), [b.n, SIZE, SIZE, 3]));
  const x = tf.concat(parts) as tf.Tensor4D;
  tf.dispose(parts);
  return x;
}

test("Grad-CAM puts a corner patch's class in that corner, at the cut and at an earlier layer", LONG, async (t) => {
  if (!(await selectBackend("auto")).canTrainConv) await selectBackend("cpu");
  const dir = tempDir(t);
  const a = loadArtifacts("mobilenet_v2", ROOT);
  const train = await dataset(dir, 20, 1);
  const held = await dataset(dir, 6, 2);
  const before = tf.memory().numTensors;
  // the head: logistic regression on the average-pooled out_relu features
  const base = await buildBase(a, "out_relu", [SIZE, SIZE]);
  const x = await imagesTensor(train, "tf");
  const features = tf.tidy(() => tf.mean(base.predict(x) as tf.Tensor, [1, 2]));
  const head = buildHead({ layers: [], dropout: 0, l2: 0, output: "softmax", pooling: "avg" } as never, features.shape[1]!, 2, 3);
  const optimizer = tf.train.adam(0.01);
  head.compile({ optimizer, loss: "categoricalCrossentropy", metrics: ["accuracy"] });
  const y = tf.tidy(() => tf.oneHot(tf.tensor1d(train.map((it) => it.label), "int32"), 2));
  const fit = await head.fit(features, y, { epochs: 40, batchSize: 16, verbose: 0, shuffle: false });
  assert.ok((fit.history.acc!.at(-1) as number) >= 0.95, `the head learned the patch (train accuracy ${fit.history.acc!.at(-1)})`);
  tf.dispose([x, y, features]);
  optimizer.dispose();
  base.dispose();

  const patched = held.filter((it) => it.label === 0);
  const px = await imagesTensor(patched, "tf");
  for (const layer of ["", "block_6_expand_relu"]) {
    const cam = await camBase(a, "out_relu", [SIZE, SIZE], layer);
    const { maps, size } = gradCam(cam, head, "avg", px, patched.map(() => 0));
    cam.dispose();
    assert.deepEqual(size, layer ? [16, 16] : [4, 4]);
    assert.ok(maps.every((v) => v >= 0 && v <= 1), "normalised to 0..1");
    const shares = topLeftShare(maps, size);
    const mean = shares.reduce((s, v) => s + v, 0) / shares.length;
    t.diagnostic(`${layer || "out_relu"}: top-left share ${shares.map((s) => s.toFixed(2)).join(" ")}`);
    // the earlier layer sees the noise texture too, so its maps spread more (untrained heads: 0.25 on average at both)
    const floor = layer ? 0.4 : 0.6;
    assert.ok(mean > floor, `${layer || "the cut"}: mean top-left share ${mean.toFixed(2)}, want > ${floor}, chance 0.25`);
    assert.ok(shares.filter((s) => s > floor - 0.1).length >= shares.length - 1, `${layer || "the cut"}: nearly every map in the corner`);
  }
  px.dispose();

  // the panels, most confident errors first: one held-out item's probabilities are made wrong
  const probs = new Float32Array(held.length * 2);
  held.forEach((it, i) => probs.set(it.label === 0 ? [0.9, 0.1] : [0.2, 0.8], i * 2));
  probs.set([0.3, 0.7], 0); // a "patch" image called plain: the false negative with patch as positive
  const out = join(dir, "run");
  const started = performance.now();
  const result = await explainImages({
    artifacts: a, cut: "out_relu", layer: "", inputSize: [SIZE, SIZE], head, pooling: "avg", items: held, probs,
    classes: ["patch", "plain"], binary: { positive: 0, threshold: 0.5 }, decode: decode("tf"), out, n: 5,
  });
  t.diagnostic(`explainImages n=5 at ${SIZE} px: ${Math.round(performance.now() - started)} ms`);
  assert.equal(result.explain.length, 5);
  assert.deepEqual(result.explain[0], { file: "plots/explain_0.png", truth: "patch", predicted: "plain", probability: probs[1], kind: "false_negative" });
  assert.deepEqual(result.explain.slice(1).map((e) => e.kind), ["correct", "correct", "correct", "correct"]);
  assert.ok(result.explain.every((e) => existsSync(join(out, e.file))));
  assert.ok(existsSync(join(out, "plots", "explain_grid.png")));
  const meta = await sharp(join(out, "plots", "explain_0.png")).metadata();
  assert.ok(meta.width! >= 2 * 200 && meta.height! >= 200, "two tiles side by side");
  head.dispose();
  assert.equal(tf.memory().numTensors, before, "no tensor leaked");
});

test("Grad-CAM on a ResNet, across a split with a skip connection, and a missing layer named with a hint", async (t) => {
  if (!(await selectBackend("auto")).canTrainConv) await selectBackend("cpu");
  const dir = tempDir(t);
  // random weights: fromTopology initialises the layers the (empty) weights leave out
  const a: ModelArtifacts = { origin: "random resnet50", topology: resnetTopology("resnet50"), weightSpecs: [], weightData: new ArrayBuffer(0), weightsSha256: "", preprocessing: "caffe" };
  const items = (await dataset(dir, 2, 3)).slice(0, 3);
  const before = tf.memory().numTensors;
  const head = buildHead({ layers: [{ units: 8, activation: "relu", dropout: 0.1 }], dropout: 0, l2: 0, output: "sigmoid", pooling: "max" } as never, 2048, 2, 3);
  const x = await imagesTensor(items, "caffe");
  // conv4_block3_1_relu: conv4_block2_out crosses the split beside it, as the block's shortcut
  const cam = await camBase(a, "conv5_block3_out", [SIZE, SIZE], "conv4_block3_1_relu");
  assert.equal(cam.bottom.outputs.length, 2, "the activation and the shortcut cross the split");
  const { maps, size } = gradCam(cam, head, "max", x, [1, 0, 1]);
  cam.dispose();
  assert.deepEqual(size, [8, 8]);
  assert.equal(maps.length, 3 * 64);
  assert.ok(maps.every((v) => Number.isFinite(v) && v >= 0 && v <= 1));
  x.dispose();
  head.dispose();
  assert.equal(tf.memory().numTensors, before, "no tensor leaked");
  await assert.rejects(camBase(a, "conv5_block3_out", [SIZE, SIZE], "conv4_block3_1_rel"), (e: Error) => e instanceof UsageError && /did you mean 'conv4_block3_1_relu'/.test(e.message));
  await assert.rejects(camBase(a, "conv5_block3_out", [SIZE, SIZE], "avg_pool"), UsageError);
});

test("explainImages skips a graph-model base with a note", async () => {
  const a = { origin: "hub", topology: {}, weightSpecs: [], weightData: new ArrayBuffer(0), weightsSha256: "", preprocessing: "tf", graph: { modelTopology: {} } } as unknown as ModelArtifacts;
  const r = await explainImages({ artifacts: a, cut: "", layer: "", inputSize: [SIZE, SIZE], head: undefined as never, pooling: "avg", items: [{ abs: "x.png", label: 0 }], probs: new Float32Array([1, 0]), classes: ["a", "b"], decode: decode("tf"), out: "/nonexistent", n: 4 });
  assert.deepEqual(r.explain, []);
  assert.match(r.skipped!, /graph model/);
});

test("fine-tuned weights replace the pretrained ones on both sides of the split; an attention head takes the whole map", async () => {
  if (!(await selectBackend("auto")).canTrainConv) await selectBackend("cpu");
  const a: ModelArtifacts = { origin: "random vgg16", topology: vggTopology("vgg16"), weightSpecs: [], weightData: new ArrayBuffer(0), weightsSha256: "", preprocessing: "caffe" };
  const size: [number, number] = [64, 64];
  const before = tf.memory().numTensors;
  const tuned = await buildBase(a, "block5_conv3", size); // another random draw stands for fine-tuned weights
  const cam = await camBase(a, "block5_conv3", size, "block4_pool", tuned);
  const same = (m: tf.LayersModel, layer: string): boolean =>
    tf.tidy(() => m.getLayer(layer).getWeights().every((w, i) => tf.equal(w, tuned.getLayer(layer).getWeights()[i]!).all().dataSync()[0] === 1));
  assert.ok(same(cam.bottom, "block1_conv1") && same(cam.top!, "block5_conv3"));
  const head = buildAttentionHead({ layers: [], dropout: 0, l2: 0, output: "softmax", pooling: "avg" } as never, [4, 4, 512], 3, 1);
  const x = tf.randomUniform([2, 64, 64, 3], -100, 100) as tf.Tensor4D;
  const { maps, size: mapSize } = gradCam(cam, head, "none", x, [2, 0]);
  x.dispose();
  assert.deepEqual(mapSize, [4, 4], "block4_pool at 64 px");
  assert.equal(maps.length, 32);
  cam.dispose();
  tuned.dispose();
  head.dispose();
  assert.equal(tf.memory().numTensors, before, "no tensor leaked");
});
