/**
 * Compiled native inference (src/models/compiled.ts, the onnxruntime engine of engine.ts): a
 * forward pass recorded on the tensorflow backend and run by ONNX Runtime must give the
 * LayersModel's outputs, for full, short and oversized batches, without leaking tensors; a
 * function whose recording would freeze an input-dependent value must be refused.
 */
import { before, test } from "node:test";
import assert from "node:assert/strict";
import { resolve } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { selectBackend } from "../../src/backend/select";
import { buildBase } from "../../src/models/build";
import { foldForInference } from "../../src/models/fold";
import { compileForward } from "../../src/models/compiled";
import { chooseEngine, type FastInference, type ForwardOptions } from "../../src/models/engine";
import type { InferenceModel } from "../../src/models/fold";
import { loadArtifacts } from "../../src/models/source";
import { randomZoo } from "./zoo-fixtures";
import { ARCHITECTURES } from "../../src/models/zoo";

const ROOT = resolve(__dirname, "../../..");

before(async () => {
  // The compiled path exists only on the native backend; CI installs it, so this must load.
  await selectBackend("native");
});

function relDiff(want: tf.Tensor, got: tf.Tensor): number {
  assert.deepEqual(got.shape, want.shape);
  return tf.tidy(() => tf.max(tf.abs(tf.sub(got, want))).dataSync()[0]! / Math.max(tf.max(tf.abs(want)).dataSync()[0]!, 1e-6));
}

/** `model` through the onnxruntime engine (eager, with the pin check's line, if the installation fails it). */
const viaOrt = (model: InferenceModel, inputShape: number[], opts?: ForwardOptions): Promise<FastInference> => chooseEngine("onnxruntime").forward(model, inputShape, opts);

/** The model's own predict against its folded copy run by ONNX Runtime, at batches 8 (full), 3 (short) and 19 (chunked). */
async function checkCompiled(m: tf.LayersModel, size: number): Promise<{ rel: number; runner: string; leaked: number }> {
  const fast = await viaOrt(foldForInference(m), [8, size, size, 3]);
  let rel = 0;
  const t0 = tf.memory().numTensors;
  for (const n of [8, 3, 19]) {
    const x = tf.randomUniform([n, size, size, 3], -1, 1, "float32", n);
    const want = [m.predict(x)].flat() as tf.Tensor[];
    const got = fast.predict(x);
    assert.equal(got.length, want.length);
    want.forEach((w, i) => (rel = Math.max(rel, relDiff(w, got[i]!))));
    tf.dispose([x, ...want, ...got]);
  }
  const leaked = tf.memory().numTensors - t0;
  fast.dispose();
  return { rel, runner: fast.runner, leaked };
}

const RUNNER = /^onnxruntime \d+\.\d+\.\d+, \d+ ops$/;
const sizeFor = (name: string): number => (/inception|xception/.test(name) ? 75 : /nasnet/.test(name) ? 64 : 32);

test("MobileNetV2 (embedded weights) gives predict's outputs", async () => {
  const m = await buildBase(loadArtifacts("mobilenet_v2", ROOT), "out_relu", [64, 64]);
  const r = await checkCompiled(m, 64);
  m.dispose();
  assert.match(r.runner, RUNNER);
  assert.ok(r.rel < 1e-4, `relative diff ${r.rel}`);
  assert.equal(r.leaked, 0, "tensors leaked");
});

for (const name of ["resnet50", "densenet121", "inception_v3", "efficientnet_b0"]) {
  test(`${name} (random weights, BatchNorm stats) gives predict's outputs`, async () => {
    const m = await randomZoo(name, sizeFor(name));
    const r = await checkCompiled(m, sizeFor(name));
    m.dispose();
    assert.match(r.runner, RUNNER);
    assert.ok(r.rel < 1e-4, `relative diff ${r.rel}`);
    assert.equal(r.leaked, 0, "tensors leaked");
  });
}

test("host batches (full, short, chunked; private or shared memory) give the eager outputs", async () => {
  const w = tf.randomNormal([3, 3, 3, 5], 0, 1, "float32", 11) as tf.Tensor4D;
  const model = { predict: (x: tf.Tensor | tf.Tensor[]) => [tf.mean(tf.relu6(tf.conv2d([x].flat()[0] as tf.Tensor4D, w, 1, "same")), [1, 2])], folded: { batchNorms: 0, activations: 0, convs: 0 }, dispose: () => undefined };
  const fast = await viaOrt(model, [4, 6, 6, 3]);
  assert.match(fast.runner, RUNNER);
  const t0 = tf.memory().numTensors;
  // the loader's batches are shared memory when there are decode workers (ONNX Runtime refuses it as such)
  const sharedCopy = (a: Float32Array): Float32Array => {
    const out = new Float32Array(new SharedArrayBuffer(a.byteLength));
    out.set(a);
    return out;
  };
  for (const [n, memory] of [[4, "private"], [3, "private"], [10, "private"], [4, "shared"], [10, "shared"]] as const) {
    const x = tf.randomUniform([n, 6, 6, 3], -1, 1, "float32", n);
    const want = tf.tidy(() => model.predict(x)[0]!);
    const host = memory === "shared" ? sharedCopy(x.dataSync() as Float32Array) : (x.dataSync() as Float32Array);
    assert.equal(host.buffer instanceof SharedArrayBuffer, memory === "shared");
    const [got] = fast.predictHost(host, n, [6, 6, 3]);
    assert.equal(got!.length, n * 5);
    const diff = Math.max(...Array.from(want.dataSync()).map((v, i) => Math.abs(v - got![i]!)));
    assert.ok(diff < 1e-5, `n=${n} (${memory}): max diff ${diff}`);
    tf.dispose([x, want]);
  }
  assert.equal(tf.memory().numTensors, t0, "tensors leaked");
  fast.dispose();
  w.dispose();
});

test("every zoo architecture converts and gives predict's outputs", { skip: process.env.TLRUN_FAST ? "slow: TLRUN_FAST is set" : false, timeout: 20 * 60_000 }, async () => {
  const failed: string[] = [];
  for (const name of Object.keys(ARCHITECTURES)) {
    const m = await randomZoo(name, sizeFor(name));
    const r = await checkCompiled(m, sizeFor(name));
    m.dispose();
    if (!RUNNER.test(r.runner) || !(r.rel < 1e-4) || r.leaked !== 0) failed.push(`${name}: ${r.runner}, relative diff ${r.rel}, leaked ${r.leaked}`);
  }
  assert.deepEqual(failed, []);
});

test("a function that reads its input on the host is refused, not compiled with the first batch frozen in", async () => {
  // The scale comes from the data: a recording would store the sample's value as a constant.
  const fn = (x: tf.Tensor): tf.Tensor[] => [tf.mul(x, tf.scalar(x.dataSync()[0]!))];
  const r = await compileForward(fn, [2, 4, 4, 3]);
  assert.equal(r.ok, false);
  assert.match(!r.ok ? r.reason : "", /^graph output differs from eager/);
});

test("a compiled model called inside the function is refused", async () => {
  const inner = await compileForward((x) => [tf.relu(x)], [2, 3]);
  assert.ok(inner.ok, inner.ok ? "" : inner.reason);
  const r = await compileForward((x) => inner.forward.run(x), [2, 3]);
  inner.forward.dispose();
  // ONNX Runtime's output comes back as a host constant
  assert.deepEqual(r, { ok: false, reason: "output 0 is not computed by an op" });
});

test("axes, paddings and broadcasts keep TensorFlow's meaning through the NCHW layout", async () => {
  const w = tf.randomNormal([3, 3, 3, 4], 0, 1, "float32", 2) as tf.Tensor4D;
  const dw = tf.randomNormal([3, 3, 4, 2], 0, 1, "float32", 3) as tf.Tensor4D;
  const bias = tf.randomNormal([8], 0, 1, "float32", 4);
  const dense = tf.randomNormal([5 * 8, 3], 0, 1, "float32", 5) as tf.Tensor2D;
  const fn = (x: tf.Tensor): tf.Tensor[] => {
    const c = tf.relu6(tf.conv2d(x as tf.Tensor4D, w, [1, 2], "same", "NHWC", [1, 1]));
    const d = tf.add(tf.depthwiseConv2d(c, dw, 1, "valid", "NHWC", 2), bias); // dilated, channel multiplier 2
    const p = tf.pad(d, [[0, 0], [1, 2], [0, 1], [0, 0]], 0.5);
    const s = tf.slice(p, [0, 1, 0, 1], [-1, 4, -1, 6]);
    const se = tf.sigmoid(tf.mean(s, [1, 2], true)); // [n, 1, 1, c] scales, as in a squeeze-excite block
    const cat = tf.concat([tf.mul(s, se), tf.avgPool(s as tf.Tensor4D, 3, 1, "same")], 2); // along W
    const byRow = tf.mean(cat, 1); // drops H: [n, W, C] must keep TensorFlow's axis order
    const flat = tf.reshape(tf.maxPool(cat as tf.Tensor4D, [2, 2], [2, 2], "valid"), [x.shape[0]!, -1]);
    return [byRow, tf.matMul(tf.slice(flat, [0, 0], [-1, 40]), dense), tf.sum(cat, [3]), tf.max(cat, [0, 3], true), tf.concat([s, se.tile([1, 4, 5, 1])], 3)];
  };
  const x = tf.randomUniform([2, 12, 16, 3], -1, 1, "float32", 6);
  const r = await compileForward(fn, [2, 12, 16, 3]);
  assert.ok(r.ok, r.ok ? "" : r.reason);
  const want = tf.tidy(() => fn(x));
  const got = r.forward.run(x);
  want.forEach((t, i) => assert.ok(relDiff(t, got[i]!) < 1e-5, `output ${i}: relative diff ${relDiff(t, got[i]!)}`));
  tf.dispose([x, w, dw, bias, dense, ...want, ...got]);
  r.forward.dispose();
});

test("a zero pad before a max pool keeps its zeros (ONNX Runtime's PadFusion would turn them into -inf)", async () => {
  // All-negative input: every window that reaches the zero border must give 0, as in TensorFlow.
  for (const [padding, stride] of [["valid", 2], ["same", 2], ["same", 1]] as const) {
    const fn = (x: tf.Tensor): tf.Tensor[] => [tf.maxPool(tf.pad(x, [[0, 0], [1, 1], [1, 0], [0, 0]]) as tf.Tensor4D, 3, stride, padding)];
    const r = await compileForward(fn, [2, 7, 6, 3]);
    assert.ok(r.ok, r.ok ? "" : r.reason);
    const x = tf.neg(tf.randomUniform([2, 7, 6, 3], 0.1, 2, "float32", 9));
    const [want] = fn(x), [got] = r.forward.run(x);
    assert.deepEqual(Array.from(got!.dataSync()), Array.from(want!.dataSync()), `${padding}, stride ${stride}`);
    tf.dispose([x, want!, got!]);
    r.forward.dispose();
  }
  // Pads as wide as the window cannot be MaxPool pads; that pass runs eagerly.
  const wide = (x: tf.Tensor): tf.Tensor[] => [tf.maxPool(tf.pad(x, [[0, 0], [3, 0], [0, 0], [0, 0]]) as tf.Tensor4D, 3, 1, "valid")];
  assert.deepEqual(await compileForward(wide, [1, 5, 5, 1]), { ok: false, reason: "MaxPool of a zero pad [3,0,0,0] as wide as its 3x3 window" });
});

test("an op ONNX export does not know is refused by name, and that pass runs eagerly with the reason", async () => {
  const fn = (x: tf.Tensor): tf.Tensor[] => [tf.cumsum(x, 1)];
  assert.deepEqual(await compileForward(fn, [2, 5]), { ok: false, reason: "TensorFlow op Cumsum has no ONNX conversion here" });
  const fast = await viaOrt({ predict: (x) => fn([x].flat()[0]!), folded: { batchNorms: 0, activations: 0, convs: 0 }, dispose: () => undefined }, [2, 5]);
  assert.equal(fast.runner, "eager: TensorFlow op Cumsum has no ONNX conversion here");
  const y = fast.predict(tf.tensor2d([[1, 2, 3, 4, 5], [0, 1, 0, 1, 0]]));
  assert.deepEqual(Array.from(y[0]!.dataSync()), [1, 3, 6, 10, 15, 0, 1, 1, 2, 2]);
  tf.dispose(y);
});

test("on another backend compiling is declined with the reason, and the eager model is used", async () => {
  await selectBackend("cpu");
  try {
    const r = await compileForward((x) => [tf.relu(x)], [1, 2]);
    assert.deepEqual(r, { ok: false, reason: "backend cpu" });
  } finally {
    await selectBackend("native");
  }
});

test("ONNX Runtime needs no temp folder", async () => {
  const saved = process.env.TMPDIR;
  process.env.TMPDIR = "/nonexistent/tlrun-test";
  try {
    const model = { predict: (x: tf.Tensor | tf.Tensor[]) => [tf.relu([x].flat()[0]!)], folded: { batchNorms: 0, activations: 0, convs: 0 }, dispose: () => undefined };
    const fast = await viaOrt(model, [2, 3]);
    assert.match(fast.runner, RUNNER);
    const y = fast.predict(tf.tensor2d([[-1, 2, -3], [4, -5, 6]]));
    assert.deepEqual(Array.from(y[0]!.dataSync()), [0, 2, 0, 4, 0, 6]);
    tf.dispose(y);
    fast.dispose();
  } finally {
    if (saved === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = saved;
  }
});
