/**
 * Compiled native inference (src/models/native-graph.ts): a forward pass recorded on the
 * tensorflow backend and run as one TensorFlow session must give the LayersModel's outputs, for
 * full, short and oversized batches, without leaking tensors; a function whose recording would
 * freeze an input-dependent value must be refused; the SavedModel written must parse with
 * tfjs-node's own protobuf classes.
 */
import { before, test } from "node:test";
import assert from "node:assert/strict";
import { resolve } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { selectBackend } from "../../src/backend/select";
import { buildBase } from "../../src/models/build";
import { foldForInference } from "../../src/models/fold";
import { compileNative, fastInference } from "../../src/models/native-graph";
import { graphDef, savedModel, type NodeDef } from "../../src/models/protobuf";
import { loadArtifacts } from "../../src/models/source";
import { randomZoo } from "./zoo-fixtures";

const ROOT = resolve(__dirname, "../../..");

before(async () => {
  // The compiled path exists only on the native backend; CI installs it, so this must load.
  await selectBackend("native");
});

function relDiff(want: tf.Tensor, got: tf.Tensor): number {
  assert.deepEqual(got.shape, want.shape);
  return tf.tidy(() => tf.max(tf.abs(tf.sub(got, want))).dataSync()[0]! / Math.max(tf.max(tf.abs(want)).dataSync()[0]!, 1e-6));
}

/** The model's own predict against its folded copy run as a compiled graph, at batches 8 (full), 3 (short) and 19 (chunked). */
async function checkCompiled(m: tf.LayersModel, size: number): Promise<{ rel: number; runner: string; leaked: number }> {
  const fast = await fastInference(foldForInference(m), [8, size, size, 3]);
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

test("MobileNetV2 (embedded weights) runs as a TensorFlow graph with predict's outputs", async () => {
  const m = await buildBase(loadArtifacts("mobilenet_v2", ROOT), "out_relu", [64, 64]);
  const r = await checkCompiled(m, 64);
  m.dispose();
  assert.match(r.runner, /^tensorflow graph, \d+ ops$/);
  assert.ok(r.rel < 1e-4, `relative diff ${r.rel}`);
  assert.equal(r.leaked, 0, "tensors leaked");
});

for (const name of ["resnet50", "densenet121", "inception_v3"]) {
  test(`${name} (random weights, BatchNorm stats) runs as a TensorFlow graph with predict's outputs`, async () => {
    const size = name === "inception_v3" ? 75 : 32;
    const m = await randomZoo(name, size);
    const r = await checkCompiled(m, size);
    m.dispose();
    assert.match(r.runner, /^tensorflow graph/);
    assert.ok(r.rel < 1e-4, `relative diff ${r.rel}`);
    assert.equal(r.leaked, 0, "tensors leaked");
  });
}

test("a function that reads its input on the host is refused, not compiled with the first batch frozen in", async () => {
  // The scale comes from the data: a recording would store the sample's value as a constant.
  const fn = (x: tf.Tensor): tf.Tensor[] => [tf.mul(x, tf.scalar(x.dataSync()[0]!))];
  const r = await compileNative(fn, [2, 4, 4, 3]);
  assert.equal(r.ok, false);
  assert.match(!r.ok ? r.reason : "", /differs from eager/);
});

test("a compiled model called inside the function is refused: its session call cannot be recorded", async () => {
  const inner = await compileNative((x) => [tf.relu(x)], [2, 3]);
  assert.ok(inner.ok);
  const r = await compileNative((x) => inner.forward.run(x), [2, 3]);
  inner.forward.dispose();
  assert.deepEqual(r, { ok: false, reason: "1 op(s) ran outside the recorder" });
});

test("several outputs keep their order; constants of int32 and bool dtypes are carried", async () => {
  const fn = (x: tf.Tensor): tf.Tensor[] => {
    const flat = tf.reshape(x, [2, -1]); // Reshape takes an int32 shape constant
    const mask = tf.greater(tf.ones([2, 48]), tf.zeros([2, 48]));
    return [tf.sum(flat, 1), tf.where(mask, flat, tf.zerosLike(flat)), tf.max(x, [1, 2])];
  };
  const r = await compileNative(fn, [2, 4, 4, 3]);
  assert.ok(r.ok, r.ok ? "" : r.reason);
  const x = tf.randomNormal([2, 4, 4, 3], 0, 1, "float32", 5);
  const want = tf.tidy(() => fn(x));
  const got = r.forward.run(x);
  assert.deepEqual(got.map((t) => t.shape), [[2], [2, 48], [2, 3]]);
  want.forEach((w, i) => assert.ok(relDiff(w, got[i]!) < 1e-6));
  tf.dispose([x, ...want, ...got]);
  r.forward.dispose();
});

test("the SavedModel bytes parse with tfjs-node's protobuf classes and say what was written", () => {
  const nodes: NodeDef[] = [
    { name: "x", op: "Placeholder", inputs: [], attrs: { dtype: { type: 1 }, shape: { shape: [-1, 3] } } },
    { name: "n0", op: "Relu", inputs: ["x"], attrs: { T: { type: 1 }, axis: { list: { i: [-1, 2] } }, alpha: { f: 0.5 } } },
  ];
  const bytes = savedModel(graphDef(nodes, 1087), ["serve"], "serving_default", { x: { name: "x:0", dtype: 1, shape: [-1, 3] } }, { y0: { name: "n0:0", dtype: 1, shape: [-1, 3] } });
  const pb = require("@tensorflow/tfjs-node/dist/proto/api_pb") as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  const sm = pb.SavedModel.deserializeBinary(new Uint8Array(bytes));
  assert.equal(sm.getSavedModelSchemaVersion(), 1);
  const mg = sm.getMetaGraphsList()[0];
  assert.deepEqual(mg.getMetaInfoDef().getTagsList(), ["serve"]);
  const graph = mg.getGraphDef();
  assert.equal(graph.getVersions().getProducer(), 1087);
  const [x, relu] = graph.getNodeList();
  assert.equal(x.getOp(), "Placeholder");
  assert.deepEqual(x.getAttrMap().get("shape").getShape().getDimList().map((d: { getSize(): number }) => d.getSize()), [-1, 3]);
  assert.deepEqual(relu.getInputList(), ["x"]);
  assert.deepEqual(relu.getAttrMap().get("axis").getList().getIList(), [-1, 2]);
  assert.equal(relu.getAttrMap().get("alpha").getF(), 0.5);
  const sig = mg.getSignatureDefMap().get("serving_default");
  assert.equal(sig.getInputsMap().get("x").getName(), "x:0");
  assert.equal(sig.getOutputsMap().get("y0").getName(), "n0:0");
});

test("on another backend compiling is declined with the reason, and the eager model is used", async () => {
  await selectBackend("cpu");
  try {
    const r = await compileNative((x) => [tf.relu(x)], [1, 2]);
    assert.deepEqual(r, { ok: false, reason: "backend cpu" });
  } finally {
    await selectBackend("native");
  }
});

test("an unwritable temp folder declines compiling with the reason; the eager model still answers", async () => {
  const saved = process.env.TMPDIR;
  process.env.TMPDIR = "/nonexistent/tlrun-test";
  try {
    const model = { predict: (x: tf.Tensor | tf.Tensor[]) => [tf.relu([x].flat()[0]!)], folded: { batchNorms: 0, activations: 0, convs: 0 }, dispose: () => undefined };
    const fast = await fastInference(model, [2, 3]);
    assert.match(fast.runner, /^eager: cannot write the graph: ENOENT/);
    const y = fast.predict(tf.tensor2d([[-1, 2, -3], [4, -5, 6]]));
    assert.deepEqual(Array.from(y[0]!.dataSync()), [0, 2, 0, 4, 0, 6]);
    tf.dispose(y);
  } finally {
    if (saved === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = saved;
  }
});
