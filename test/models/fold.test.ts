/**
 * BatchNorm folding for inference (src/models/fold.ts): the folded model must give the same
 * outputs as the LayersModel (1e-4 relative), leave the model's own weights alone and leak no
 * tensors, on the embedded MobileNetV2 and on the zoo's ResNet50, VGG16 and DenseNet121 with
 * random weights and random BatchNorm statistics. The training variant must give the same
 * gradients for the model's own trainable variables.
 */
import { before, test } from "node:test";
import assert from "node:assert/strict";
import { resolve } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { selectBackend } from "../../src/backend/select";
import { buildBase, buildSplitBase } from "../../src/models/build";
import { foldForInference, foldForTraining } from "../../src/models/fold";
import { baseLayers, freezeIndex } from "../../src/models/layers";
import { loadArtifacts } from "../../src/models/source";
import { randomZoo } from "./zoo-fixtures";

const ROOT = resolve(__dirname, "../../..");

before(async () => {
  await selectBackend("auto");
});

/** Largest |folded − original| relative to the largest |original|, and whether the model's weights stayed put. */
function compare(model: tf.LayersModel, size: number): { rel: number; weightsKept: boolean; leaked: number; folded: { batchNorms: number } } {
  const before = model.getWeights().map((w) => w.dataSync().slice());
  const x = tf.randomUniform([2, size, size, 3], -1, 1, "float32", 1);
  const f = foldForInference(model);
  const t0 = tf.memory().numTensors;
  const rel = tf.tidy(() => {
    const want = [model.predict(x)].flat() as tf.Tensor[];
    const got = f.predict(x);
    assert.equal(got.length, want.length);
    return Math.max(...want.map((w, i) => tf.max(tf.abs(tf.sub(got[i]!, w))).dataSync()[0]! / Math.max(tf.max(tf.abs(w)).dataSync()[0]!, 1e-6)));
  });
  const leaked = tf.memory().numTensors - t0;
  f.dispose();
  x.dispose();
  const weightsKept = model.getWeights().every((w, i) => w.dataSync().every((v, j) => v === before[i]![j]));
  return { rel, weightsKept, leaked, folded: f.folded };
}

test("folded MobileNetV2 (embedded weights) matches predict and folds all 52 BatchNorms", async () => {
  const a = loadArtifacts("mobilenet_v2", ROOT);
  const m = await buildBase(a, "out_relu", [64, 64]);
  const r = compare(m, 64);
  m.dispose();
  assert.ok(r.rel < 1e-4, `relative diff ${r.rel}`);
  assert.equal(r.folded.batchNorms, 52);
  assert.ok(r.weightsKept, "the model's own weights changed");
  assert.equal(r.leaked, 0, "tensors leaked");
});

for (const [name, size, batchNorms] of [["resnet50", 32, 53], ["vgg16", 32, 0], ["densenet121", 32, undefined]] as const) {
  test(`folded ${name} (random weights and BatchNorm stats) matches predict`, async () => {
    const m = await randomZoo(name, size);
    const r = compare(m, size);
    m.dispose();
    assert.ok(r.rel < 1e-4, `relative diff ${r.rel}`);
    if (batchNorms !== undefined) assert.equal(r.folded.batchNorms, batchNorms);
    assert.ok(r.weightsKept, "the model's own weights changed");
    assert.equal(r.leaked, 0, "tensors leaked");
  });
}

test("a model whose head layers also belong to another model (the evaluate stage's assembly) folds", async () => {
  const inp = tf.input({ shape: [8, 8, 3] });
  let t = tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: "same", useBias: false }).apply(inp) as tf.SymbolicTensor;
  t = tf.layers.batchNormalization().apply(t) as tf.SymbolicTensor;
  t = tf.layers.reLU({ maxValue: 6 }).apply(t) as tf.SymbolicTensor;
  const base = tf.model({ inputs: inp, outputs: t });
  const head = tf.sequential({ layers: [tf.layers.dense({ inputShape: [4], units: 3, activation: "softmax" })] });
  const pooled = tf.layers.globalAveragePooling2d({}).apply(base.outputs[0]!) as tf.SymbolicTensor;
  const model = tf.model({ inputs: base.inputs, outputs: head.layers[0]!.apply(pooled) as tf.SymbolicTensor });
  const bn = base.layers[2]!;
  bn.setWeights(bn.getWeights().map((w) => tf.tidy(() => tf.randomUniform(w.shape, 0.5, 1.5))));
  const r = compare(model, 8);
  assert.ok(r.rel < 1e-4, `relative diff ${r.rel}`);
  assert.equal(r.folded.batchNorms, 1);
  model.dispose();
  head.dispose();
});

test("training fold of MobileNetV2's top (frozen BatchNorm) gives the same outputs and gradients", async () => {
  const a = loadArtifacts("mobilenet_v2", ROOT);
  const at = freezeIndex(baseLayers(a, "out_relu"), "block_15_expand")!;
  const split = await buildSplitBase(a, "out_relu", [64, 64], at);
  for (const l of split.top.layers) l.trainable = l.getClassName() !== "BatchNormalization";
  const f = foldForTraining(split.top);
  assert.equal(f.folded.batchNorms, 7); // blocks 15 and 16 (expand, depthwise, project) and Conv_1
  const x = tf.randomUniform([2, ...(split.top.inputs[0]!.shape.slice(1) as number[])], 0, 3, "float32", 2);
  const probe = tf.randomNormal([2, ...(split.top.outputs[0]!.shape.slice(1) as number[])], 0, 1, "float32", 3);
  const vars = split.top.trainableWeights.map((v) => v.read() as tf.Variable);
  const gradsOf = (run: () => tf.Tensor): { value: number; grads: Float32Array[] } => {
    const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(run(), probe)), vars);
    const out = { value: value.dataSync()[0]!, grads: vars.map((v) => grads[v.name]!.dataSync() as Float32Array) };
    tf.dispose([value, ...Object.values(grads)]);
    return out;
  };
  const t0 = tf.memory().numTensors;
  const want = gradsOf(() => split.top.apply(x, { training: false }) as tf.Tensor);
  const got = gradsOf(() => f.predict(x)[0]!);
  assert.equal(tf.memory().numTensors, t0, "tensors leaked");
  assert.ok(Math.abs(got.value - want.value) <= 1e-4 * Math.abs(want.value), `loss ${got.value} vs ${want.value}`);
  want.grads.forEach((w, i) => {
    const g = got.grads[i]!;
    let diff = 0, max = 0;
    w.forEach((v, j) => ((diff = Math.max(diff, Math.abs(v - g[j]!))), (max = Math.max(max, Math.abs(v)))));
    assert.ok(diff <= 1e-4 * max + 1e-7, `${vars[i]!.name}: max |diff| ${diff}, max |grad| ${max}`);
  });
  f.dispose();
  tf.dispose([x, probe]);
  split.top.dispose();
  split.bottom.dispose();
});
