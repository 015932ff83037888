/**
 * `tlrun export` on run folders written by hand (test/deploy/fixtures.ts): each format, loaded by
 * its own runtime (tfjs, ONNX Runtime, TensorFlow Python), gives the tfjs model's probabilities
 * on the same preprocessed batch; the card says what predict needs; bad input is refused with a
 * clear message and leaves nothing behind.
 */
import { before, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { selectBackend } from "../../src/backend/select";
import { buildBase } from "../../src/models/build";
import { loadArtifacts } from "../../src/models/source";
import { exportCommand } from "../../src/cli/export";
import { main } from "../../src/cli/main";
import { eagerProbabilities } from "../../src/deploy/classifier-trace";
import { exportRun } from "../../src/deploy/export";
import { modelCard, readModelCard } from "../../src/deploy/model-card";
import { maxAbsDiff, randomPixels } from "../../src/deploy/onnx";
import { loadOrt, ortSession } from "../../src/models/onnx/runtime";
import { sha256 } from "../../src/util/hash";
import { tempDir } from "../helpers";
import { tinyRun } from "./fixtures";

const ROOT = resolve(__dirname, "../../..");
const SHAPE: [number, number, number, number] = [6, 16, 16, 3];
const SLOW = { skip: process.env.TLRUN_FAST ? "slow: TLRUN_FAST is set" : false, timeout: 20 * 60_000 };

before(async () => {
  await selectBackend("native");
});

test("tfjs: the exported folder loads with tf.loadLayersModel and matches", async (t) => {
  const root = tempDir(t);
  const { dir, model } = await tinyRun(join(root, "runs"), "r1");
  const tensors = tf.memory().numTensors;
  const r = await exportRun(dir, { format: "tfjs", out: join(root, "out") });
  assert.equal(tf.memory().numTensors, tensors, "export leaks no tensors");
  assert.deepEqual(r.files, ["README.md", "model-card.json", "model.json", "weights.bin"]);
  const loaded = await tf.loadLayersModel(`file://${join(root, "out", "model.json")}`);
  const x = randomPixels(SHAPE, 11);
  const diff = maxAbsDiff(eagerProbabilities(model, x, SHAPE), eagerProbabilities(loaded, x, SHAPE));
  console.log(`tfjs export: max |diff| = ${diff.toExponential(2)}`);
  assert.ok(diff <= 1e-4);
  loaded.dispose();
  model.dispose();
});

test("onnx: ONNX Runtime gives the tfjs probabilities at batch 1 and 6", async (t) => {
  const root = tempDir(t);
  const { dir, model } = await tinyRun(join(root, "runs"), "r1");
  const tensors = tf.memory().numTensors;
  await exportRun(dir, { format: "onnx", out: join(root, "out") });
  assert.equal(tf.memory().numTensors, tensors, "export leaks no tensors");
  const ort = loadOrt();
  assert.ok(typeof ort !== "string", String(ort));
  const s = ortSession(ort, readFileSync(join(root, "out", "model.onnx")), 1);
  const x = randomPixels(SHAPE, 12);
  const want = eagerProbabilities(model, x, SHAPE);
  const per = SHAPE.slice(1).reduce((a, b) => a * b, 1);
  const one = s.run(x.subarray(0, per), [1, 16, 16, 3])[0]!;
  const all = s.run(x, SHAPE)[0]!;
  s.dispose();
  assert.deepEqual(all.dims, [6, 3]);
  const diff = Math.max(maxAbsDiff(want.subarray(0, 3), one.data), maxAbsDiff(want, all.data));
  console.log(`onnx export: max |diff| = ${diff.toExponential(2)} at batch 1 and 6`);
  assert.ok(diff <= 1e-4);
  model.dispose();
});

/** The Keras parity venv's python when it is there or can be made; a reason to skip otherwise. */
function kerasPython(): string | { skip: string } {
  const ready = join(process.env.TLRUN_KERAS_VENV || join(homedir(), ".cache", "tlrun", "py-keras-2.15.1"), ".tlrun-keras-ready");
  if (process.env.TLRUN_FAST && !existsSync(ready)) return { skip: "TLRUN_FAST is set and the TensorFlow venv (scripts/python/setup-keras.mjs) is not set up" };
  const r = spawnSync(process.execPath, [join(ROOT, "scripts/python/setup-keras.mjs")], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  if (r.status !== 0) return { skip: `the TensorFlow venv cannot be set up: ${r.stderr.split("\n").slice(-3).join(" ")}` };
  return r.stdout.trim();
}

const CHECK_SAVED_MODEL = `
import sys, json, numpy as np, tensorflow as tf
d, xs, out, shape = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
f = tf.saved_model.load(d).signatures["serving_default"]
x = np.fromfile(xs, dtype=np.float32).reshape(shape)
one = f(input=tf.constant(x[:1]))["probabilities"].numpy()
all = f(input=tf.constant(x))["probabilities"].numpy()
np.concatenate([one.ravel(), all.ravel()]).astype(np.float32).tofile(out)
print(json.dumps({"inputs": str(f.structured_input_signature), "shape": list(all.shape)}))
`;

/**
 * Export `dir` as a SavedModel, run it in TensorFlow Python at batch 1 and `shape[0]`, and
 * return the largest |TF − tfjs| (or why it was skipped).
 */
async function savedModelDiff(t: { skip(msg: string): void }, root: string, dir: string, model: tf.LayersModel, shape: [number, number, number, number]): Promise<number | undefined> {
  const python = kerasPython();
  if (typeof python !== "string") {
    t.skip(python.skip);
    return undefined;
  }
  const tensors = tf.memory().numTensors;
  const r = await exportRun(dir, { format: "savedmodel", out: join(root, "out-sm") });
  assert.equal(tf.memory().numTensors, tensors, "export leaks no tensors");
  assert.deepEqual(r.files, ["README.md", "model-card.json", "saved_model.pb", "variables/"]);
  const x = randomPixels(shape, 13);
  writeFileSync(join(root, "x.bin"), x);
  const p = spawnSync(python, ["-c", CHECK_SAVED_MODEL, join(root, "out-sm"), join(root, "x.bin"), join(root, "y.bin"), JSON.stringify(shape)], { encoding: "utf8", env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: "2" } });
  assert.equal(p.status, 0, p.stderr);
  const info = JSON.parse(p.stdout.trim().split("\n").pop()!) as { inputs: string; shape: number[] };
  assert.match(info.inputs, new RegExp(`'input': TensorSpec\\(shape=\\(None, ${shape[1]}, ${shape[2]}, 3\\)`));
  const want = eagerProbabilities(model, x, shape);
  const k = want.length / shape[0];
  assert.deepEqual(info.shape, [shape[0], k]);
  const bytes = readFileSync(join(root, "y.bin"));
  const got = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  assert.equal(got.length, k + want.length);
  return Math.max(maxAbsDiff(want.subarray(0, k), got.subarray(0, k)), maxAbsDiff(want, got.subarray(k)));
}

test("savedmodel: TensorFlow Python loads it and gives the tfjs probabilities at batch 1 and 6", { timeout: 20 * 60_000 }, async (t) => {
  const root = tempDir(t);
  const { dir, model } = await tinyRun(join(root, "runs"), "r1", { binary: true });
  const diff = await savedModelDiff(t, root, dir, model, SHAPE);
  if (diff !== undefined) {
    console.log(`savedmodel export (TF Python): max |diff| = ${diff.toExponential(2)} at batch 1 and 6`);
    assert.ok(diff <= 1e-4);
  }
  model.dispose();
});

test("a MobileNetV2 run at 96 px exports in every format, matching tfjs", SLOW, async (t) => {
  const root = tempDir(t);
  const base = await buildBase(loadArtifacts("mobilenet_v2", ROOT), "out_relu", [96, 96]);
  const pooled = tf.layers.globalAveragePooling2d({ name: "head_pool" }).apply(base.outputs[0]!) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: 3, activation: "softmax", name: "head_output" }).apply(pooled) as tf.SymbolicTensor;
  const { dir, model } = await tinyRun(join(root, "runs"), "mnv2", { size: 96, model: tf.model({ inputs: base.inputs, outputs: out }) });
  const shape: [number, number, number, number] = [4, 96, 96, 3];
  const x = randomPixels(shape, 21);
  const want = eagerProbabilities(model, x, shape);
  const onnx = await exportRun(dir, { format: "onnx", out: join(root, "out-onnx") });
  const ort = loadOrt();
  assert.ok(typeof ort !== "string", String(ort));
  const s = ortSession(ort, readFileSync(join(root, "out-onnx", "model.onnx")), 1);
  const onnxDiff = maxAbsDiff(want, s.run(x, shape)[0]!.data);
  s.dispose();
  const tfjs = await exportRun(dir, { format: "tfjs", out: join(root, "out-tfjs") });
  const loaded = await tf.loadLayersModel(`file://${join(root, "out-tfjs", "model.json")}`);
  const tfjsDiff = maxAbsDiff(want, eagerProbabilities(loaded, x, shape));
  loaded.dispose();
  console.log(`mobilenet_v2 96 px: onnx ${onnxDiff.toExponential(2)} (export check ${onnx.card.export!.check!.max_abs_diff.toExponential(2)}), tfjs ${tfjsDiff.toExponential(2)} (check ${tfjs.card.export!.check!.max_abs_diff.toExponential(2)})`);
  assert.ok(onnxDiff <= 1e-4 && tfjsDiff <= 1e-4);
  const smDiff = await savedModelDiff(t, root, dir, model, shape);
  if (smDiff !== undefined) {
    console.log(`mobilenet_v2 96 px: savedmodel (TF Python) ${smDiff.toExponential(2)} at batch 1 and 4`);
    assert.ok(smDiff <= 1e-4);
  }
  model.dispose();
});

test("the model card holds what predict needs, and reads back", async (t) => {
  const root = tempDir(t);
  const { dir, model } = await tinyRun(join(root, "runs"), "r1", { binary: true });
  model.dispose();
  const out = join(root, "out");
  await exportRun(dir, { format: "onnx", out });
  const card = readModelCard(out);
  assert.deepEqual(card.classes, ["normal", "tuberculosis"]);
  assert.deepEqual([card.input.height, card.input.width, card.input.color_mode, card.input.interpolation], [16, 16, "grayscale", "bilinear"]);
  assert.deepEqual([card.input.preprocessing.mode, card.input.preprocessing.mean, card.input.preprocessing.std], ["tf", [127.5, 127.5, 127.5], [127.5, 127.5, 127.5]]);
  assert.deepEqual(card.decision, { kind: "threshold", positive_class: "tuberculosis", negative_class: "normal", threshold: 0.31, rule: "target_sensitivity=0.9", positive_index: 1 });
  assert.deepEqual(card.metrics!.binary!.sensitivity, { value: 0.9, low: 0.8, high: 1 });
  assert.equal(card.dataset.manifest_sha256, sha256(readFileSync(join(dir, "manifest.json"))));
  assert.equal(card.export!.format, "onnx");
  assert.equal(card.export!.output, "class_probabilities");
  assert.ok(card.export!.check!.max_abs_diff <= 1e-4);
  const readme = readFileSync(join(out, "README.md"), "utf8");
  assert.match(readme, /\*\*tuberculosis\*\* when its probability ≥ \*\*0\.3100\*\*/);
  assert.match(readme, /sensitivity 90\.0% \(95% CI 80\.0%–100\.0%\)/);
  assert.match(readme, /x \/ 127\.5 - 1/);
  // a tfjs export of a one-unit sigmoid head says its output is the positive class's alone
  await exportRun(dir, { format: "tfjs", out: join(root, "tfjs") });
  assert.equal(readModelCard(join(root, "tfjs")).export!.output, "positive_probability");
  assert.throws(() => readModelCard(root), /holds no model-card\.json/);
});

test("a run from before intervals gets a card with point estimates", async (t) => {
  const root = tempDir(t);
  const { dir, model } = await tinyRun(join(root, "runs"), "old", { oldReport: true });
  model.dispose();
  const card = modelCard(dir);
  assert.deepEqual(card.metrics!.accuracy, { value: 0.8, low: null, high: null });
  assert.equal(card.metrics!.bootstrap, null);
  assert.deepEqual(card.decision, { kind: "argmax" });
});

/** Run the CLI, returning its exit code and what it wrote to stderr. */
async function cli(args: string[]): Promise<{ code: number; err: string; out: string }> {
  const errWrite = process.stderr.write.bind(process.stderr), outWrite = process.stdout.write.bind(process.stdout);
  let err = "", out = "";
  process.stderr.write = ((s: string) => ((err += s), true)) as typeof process.stderr.write;
  process.stdout.write = ((s: string) => ((out += s), true)) as typeof process.stdout.write;
  try {
    return { code: await main(args), err, out };
  } finally {
    process.stderr.write = errWrite;
    process.stdout.write = outWrite;
  }
}

test("export refuses bad usage with exit 2 and a clear message", async (t) => {
  const root = tempDir(t);
  const runs = join(root, "runs");
  (await tinyRun(runs, "20261205-000000-tiny-ab12cd34")).model.dispose();
  const help = await cli(["export", "-h"]);
  assert.equal(help.code, 0);
  assert.match(help.out, /^tlrun export <run-id \| run dir> --format tfjs\|onnx\|savedmodel --out DIR/);
  const id = "20261205-000000-tiny-ab12cd34";
  const cases: Array<[string[], RegExp]> = [
    [["export", id, "--runs-dir", runs, "--format", "onx", "--out", join(root, "o")], /unknown format 'onx'\. did you mean 'onnx'\?/],
    [["export", id, "--runs-dir", runs, "--format", "onnx"], /missing --out DIR/],
    [["export", id, "--runs-dir", runs, "--out", join(root, "o")], /missing --format/],
    [["export", "nope", "--runs-dir", runs, "--format", "onnx", "--out", join(root, "o")], /no run 'nope'/],
    [["export", "ab12", "--runs-dir", runs, "--format", "onnx", "--out", join(root, "o")], /did you mean 20261205-000000-tiny-ab12cd34/],
  ];
  for (const [args, message] of cases) {
    const r = await cli(args);
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.err}`);
    assert.match(r.err, message);
    assert.doesNotMatch(r.err, /at .*\.js:\d+/, "no stack trace");
  }
  assert.ok(!existsSync(join(root, "o")));
});

test("export does not overwrite a non-empty folder without --force, and leaves no temporary folder", async (t) => {
  const root = tempDir(t);
  const { dir, model } = await tinyRun(join(root, "runs"), "r1");
  model.dispose();
  const out = join(root, "out");
  mkdirSync(out);
  writeFileSync(join(out, "mine.txt"), "keep me");
  await assert.rejects(exportCommand([dir, "--format", "tfjs", "--out", out]), /exists and is not empty; choose another --out or pass --force/);
  assert.equal(readFileSync(join(out, "mine.txt"), "utf8"), "keep me");
  const r = await cli(["export", dir, "--format", "tfjs", "--out", out, "--force"]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.err, /exported run r1 as tfjs/);
  assert.ok(!existsSync(join(out, "mine.txt")));
  assert.ok(existsSync(join(out, "model-card.json")));
  assert.deepEqual(readdirSync(root).filter((f) => f.includes(".tmp-")), []);
  // never into the run itself
  await assert.rejects(exportRun(dir, { format: "tfjs", out: dir, force: true }), /would replace the run's own files/);
  await assert.rejects(exportRun(dir, { format: "tfjs", out: join(dir, "model", "x"), force: true }), /would replace the run's own files/);
  assert.ok(existsSync(join(dir, "model", "model.json")));
  // an empty folder is fine without --force
  rmSync(out, { recursive: true });
  mkdirSync(out);
  assert.equal((await cli(["export", dir, "--format", "tfjs", "--out", out])).code, 0);
});

test("export refuses a run that did not complete, has no model, or has a graph-model base", async (t) => {
  const root = tempDir(t);
  const runs = join(root, "runs");
  const failed = await tinyRun(runs, "failed", { status: "failed" });
  failed.model.dispose();
  await assert.rejects(exportRun(failed.dir, { format: "onnx", out: join(root, "o") }), /run failed is failed \(train-head: out of memory\); only a completed run has a model to export/);
  const bare = await tinyRun(runs, "bare");
  bare.model.dispose();
  rmSync(join(bare.dir, "model"), { recursive: true });
  await assert.rejects(exportRun(bare.dir, { format: "onnx", out: join(root, "o") }), /run bare has no model/);
  const graph = await tinyRun(runs, "graph");
  graph.model.dispose();
  mkdirSync(join(graph.dir, "model", "base"));
  await assert.rejects(exportRun(graph.dir, { format: "tfjs", out: join(root, "o") }), /graph-model base .* exports in none of tfjs, onnx or savedmodel/);
  assert.ok(!existsSync(join(root, "o")));
  const r = await cli(["export", failed.dir, "--format", "onnx", "--out", join(root, "o")]);
  assert.equal(r.code, 2, "the wrong run to ask is a usage error");
  assert.match(r.err, /^tlrun: run failed is failed/);
});
