/**
 * The exported ONNX classifier (deploy/onnx.ts) on ONNX Runtime against the tfjs model it came
 * from, at batch sizes other than the one it was recorded at.
 */
import { before, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { tempDir } from "../helpers";
import * as tf from "@tensorflow/tfjs";
import { selectBackend } from "../../src/backend/select";
import { buildBase } from "../../src/models/build";
import { loadArtifacts } from "../../src/models/source";
import { TRACE_BATCHES } from "../../src/deploy/classifier-trace";
import { onnxMaxDiff, onnxModelBytes, randomPixels } from "../../src/deploy/onnx";
import { loadOrt, ortSession } from "../../src/models/onnx/runtime";
import { tinyClassifier } from "./fixtures";

const ROOT = resolve(__dirname, "../../..");

before(async () => {
  await selectBackend("native");
});

test("a small conv classifier with a flatten exports to ONNX for any batch size", async () => {
  const model = tinyClassifier({ classes: 3, flatten: true });
  try {
    const bytes = await onnxModelBytes(model, { inputSize: [16, 16], name: "tiny" });
    const diff = onnxMaxDiff(bytes, model, [16, 16], [1, ...TRACE_BATCHES, 7]);
    console.log(`tiny softmax classifier: max |onnx - tfjs| = ${diff.toExponential(2)} at batch 1, 3, 5, 7`);
    assert.ok(diff <= 1e-4, `max abs diff ${diff}`);
  } finally {
    model.dispose();
  }
});

test("a one-unit sigmoid head exports as two class probabilities", async () => {
  const model = tinyClassifier({ classes: 2, sigmoid: true });
  try {
    const bytes = await onnxModelBytes(model, { inputSize: [16, 16], name: "tiny" });
    const diff = onnxMaxDiff(bytes, model, [16, 16], [1, 7]);
    // the graph answers [n, 2] rows that sum to 1 and differ between images
    const ort = loadOrt();
    assert.ok(typeof ort !== "string", String(ort));
    const s = ortSession(ort, bytes, 1);
    const out = s.run(randomPixels([4, 16, 16, 3], 9), [4, 16, 16, 3])[0]!;
    s.dispose();
    assert.deepEqual(out.dims, [4, 2]);
    for (let r = 0; r < 4; r++) assert.ok(Math.abs(out.data[2 * r]! + out.data[2 * r + 1]! - 1) < 1e-6);
    assert.ok(new Set(Array.from(out.data).map((v) => v.toFixed(6))).size > 2, `rows do not depend on the image: ${out.data}`);
    console.log(`tiny sigmoid classifier: max |onnx - tfjs| = ${diff.toExponential(2)}`);
    assert.ok(diff <= 1e-4, `max abs diff ${diff}`);
  } finally {
    model.dispose();
  }
});

test("MobileNetV2 + head at 96 px exports to ONNX matching tfjs", async () => {
  const base = await buildBase(loadArtifacts("mobilenet_v2", ROOT), "out_relu", [96, 96]);
  const pooled = tf.layers.globalAveragePooling2d({ name: "head_pool" }).apply(base.outputs[0]!) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: 4, activation: "softmax", name: "head_output" }).apply(pooled) as tf.SymbolicTensor;
  const model = tf.model({ inputs: base.inputs, outputs: out });
  try {
    const bytes = await onnxModelBytes(model, { inputSize: [96, 96], name: "mobilenet" });
    const diff = onnxMaxDiff(bytes, model, [96, 96], [1, 7]);
    console.log(`mobilenet_v2 96 px: max |onnx - tfjs| = ${diff.toExponential(2)} at batch 1 and 7 (${(bytes.byteLength / 1e6).toFixed(1)} MB)`);
    assert.ok(diff <= 1e-4, `max abs diff ${diff}`);
  } finally {
    model.dispose();
  }
});

test("the ONNX model passes onnx's own checker with shape inference (what MLflow's onnx flavor runs)", async (t) => {
  const venv = process.env.TLRUN_MLFLOW_VENV || join(homedir(), ".cache", "tlrun", "mlflow-3.17.2");
  const python = join(venv, "bin", "python");
  if (!existsSync(python)) return t.skip(`no MLflow venv at ${venv} (scripts/mlflow/setup.mjs makes it), so no onnx package to check with`);
  const model = tinyClassifier({ classes: 3, flatten: true });
  const path = join(tempDir(t), "model.onnx");
  writeFileSync(path, await onnxModelBytes(model, { inputSize: [16, 16], name: "tiny" }));
  model.dispose();
  const script = "import onnx,sys; m=onnx.load(sys.argv[1]); onnx.checker.check_model(m, full_check=True); print([[d.dim_param or d.dim_value for d in v.type.tensor_type.shape.dim] for v in list(m.graph.input)+list(m.graph.output)])";
  const r = spawnSync(python, ["-c", script, path], { encoding: "utf8" });
  if (r.status !== 0 && /No module named 'onnx'/.test(r.stderr)) return t.skip("the MLflow venv has no onnx package");
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), "[['batch', 16, 16, 3], ['batch', 3]]");
});
