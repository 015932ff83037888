/**
 * The inference engine (src/models/engine.ts) and the pin checks behind it (src/models/pins.ts).
 * The installed tfjs-node and onnxruntime-node must be the pinned versions, with every private
 * member tlrun uses: a dependency bump fails here, loudly, before it reaches a run. A simulated
 * mismatch must choose eager with one line saying why, for inference and for the training step.
 */
import { before, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { selectBackend } from "../../src/backend/select";
import { TlrunError } from "../../src/errors";
import { chooseEngine, inferenceSetting } from "../../src/models/engine";
import { ORT_BINDING } from "../../src/models/onnx/runtime";
import { checkPrivateApi, installed, pinOf, type PinnedPackage, type Probe } from "../../src/models/pins";
import { TRACE_HOOK } from "../../src/models/trace";
import { traceHookRefusal } from "../../src/training/compiled-step";

const ROOT = resolve(__dirname, "../../..");
const PACKAGES: PinnedPackage[] = ["@tensorflow/tfjs-node", "onnxruntime-node"];

before(async () => {
  // the trace hook lives on the native backend's instance; CI installs it, so this must load
  await selectBackend("native");
});

/** The real installation with some lookups replaced. */
const probe = (over: Partial<Probe>): Probe => ({ version: (p) => installed.version(p), root: (a) => installed.root(a), ...over });

test("the pins are exact versions, package-lock.json installs them, and they are what is installed", () => {
  const pkg = JSON.parse(readFileSync(resolve(ROOT, "package.json"), "utf8")) as { optionalDependencies: Record<string, string> };
  const lock = JSON.parse(readFileSync(resolve(ROOT, "package-lock.json"), "utf8")) as { packages: Record<string, { version?: string; optionalDependencies?: Record<string, string> }> };
  for (const name of PACKAGES) {
    assert.match(pinOf(name), /^\d+\.\d+\.\d+$/, `${name} is pinned to an exact version`);
    assert.equal(pinOf(name), pkg.optionalDependencies[name]);
    assert.equal(lock.packages[""]!.optionalDependencies![name], pinOf(name), `package-lock.json's root asks for ${name} ${pinOf(name)}`);
    assert.equal(lock.packages[`node_modules/${name}`]!.version, pinOf(name), `package-lock.json installs ${name} ${pinOf(name)}`);
    assert.equal(installed.version(name), pinOf(name), `${name} ${installed.version(name)} is installed; tlrun uses its private API as of ${pinOf(name)}: check it, then move the pin`);
  }
});

test("every private member tlrun uses is there with the type it expects", () => {
  assert.equal(checkPrivateApi(ORT_BINDING, "compiled inference", "frozen passes run eagerly")?.line, undefined);
  assert.equal(checkPrivateApi(TRACE_HOOK, "compiled inference", "frozen passes run eagerly")?.line, undefined);
  assert.equal(traceHookRefusal()?.line, undefined);
  const engine = chooseEngine("auto");
  assert.deepEqual([engine.name, engine.reason, engine.warning], ["onnxruntime", "auto", undefined]);
});

test("another onnxruntime-node version chooses eager, with one line as the reason and the run warning", () => {
  const engine = chooseEngine("auto", probe({ version: (p) => (p === "onnxruntime-node" ? "1.31.0" : installed.version(p)) }));
  const line = `onnxruntime-node 1.31.0 is installed, tlrun's compiled inference is pinned to ${pinOf("onnxruntime-node")} (private binding API); frozen passes run eagerly`;
  assert.deepEqual([engine.name, engine.reason, engine.warning], ["eager", line, line]);
});

test("a private member gone or of another type chooses eager, naming it", () => {
  class Session {
    loadModel(): void {}
    dispose(): void {}
    get inputMetadata(): unknown[] { return []; }
    get outputMetadata(): unknown[] { return []; }
  }
  const noRun = chooseEngine("auto", probe({ root: (a) => (a === ORT_BINDING ? { initOrt: () => undefined, binding: { InferenceSession: Session } } : installed.root(a)) }));
  const v = pinOf("onnxruntime-node");
  assert.equal(noRun.name, "eager");
  assert.equal(noRun.warning, `onnxruntime-node ${v} lacks binding.InferenceSession.prototype.run, where tlrun's compiled inference needs a function (private binding API); frozen passes run eagerly`);
  const hook = { ...Object.fromEntries(Object.keys(TRACE_HOOK.members).filter((m) => !m.includes(".")).map((m) => [m, () => undefined])), binding: { executeOp: () => undefined, runSavedModel: () => undefined, TF_ATTR_STRING: "0" } };
  const badHook = chooseEngine("auto", probe({ root: (a) => (a === TRACE_HOOK ? hook : installed.root(a)) }));
  assert.equal(badHook.warning, `@tensorflow/tfjs-node ${pinOf("@tensorflow/tfjs-node")} has binding.TF_ATTR_STRING as a string, where tlrun's compiled inference needs a number (private executeSingleOutput hook); frozen passes run eagerly`);
});

test("another tfjs-node version sends inference and the training step eagerly, each with its line", () => {
  const p = probe({ version: (pkg) => (pkg === "@tensorflow/tfjs-node" ? "4.23.0" : installed.version(pkg)) });
  const pin = pinOf("@tensorflow/tfjs-node");
  assert.equal(chooseEngine("onnxruntime", p).warning, `@tensorflow/tfjs-node 4.23.0 is installed, tlrun's compiled inference is pinned to ${pin} (private executeSingleOutput hook); frozen passes run eagerly`);
  assert.deepEqual(traceHookRefusal(p), { line: `@tensorflow/tfjs-node 4.23.0 is installed, tlrun's compiled training step is pinned to ${pin} (private executeSingleOutput hook); training steps run eagerly`, mismatch: true });
});

test("onnxruntime-node not installed is eager with the reason; a warning only when TLRUN_INFERENCE asked for it", () => {
  const p = probe({ version: (pkg) => (pkg === "onnxruntime-node" ? undefined : installed.version(pkg)) });
  const auto = chooseEngine("auto", p);
  assert.deepEqual([auto.name, auto.reason, auto.warning], ["eager", "onnxruntime-node is not installed; frozen passes run eagerly", undefined]);
  assert.equal(chooseEngine("onnxruntime", p).warning, "onnxruntime-node is not installed; frozen passes run eagerly");
});

test("TLRUN_INFERENCE: eager runs the model as it is and says so; tensorflow and unknown names are refused with the choices", async () => {
  const eager = chooseEngine("eager");
  assert.deepEqual([eager.name, eager.reason], ["eager", "TLRUN_INFERENCE=eager"]);
  const model = { predict: (x: tf.Tensor | tf.Tensor[]) => [tf.relu([x].flat()[0]!)], folded: { batchNorms: 0, activations: 0, convs: 0 }, dispose: () => undefined };
  const fast = await eager.forward(model, [2, 3]);
  assert.equal(fast.runner, "eager: TLRUN_INFERENCE=eager");
  const t0 = tf.memory().numTensors;
  assert.deepEqual(Array.from(fast.predictHost(new Float32Array([-1, 2, -3, 4, -5, 6]), 2, [3])[0]!), [0, 2, 0, 4, 0, 6]);
  assert.equal(tf.memory().numTensors, t0, "tensors leaked");
  const saved = process.env.TLRUN_INFERENCE;
  try {
    for (const [v, want] of [["", "auto"], [" Auto ", "auto"], ["ONNXRUNTIME", "onnxruntime"], ["eager", "eager"]] as const) {
      process.env.TLRUN_INFERENCE = v;
      assert.equal(inferenceSetting(), want);
    }
    for (const [v, says] of [["tensorflow", "TLRUN_INFERENCE=tensorflow is not an engine (the TensorFlow session engine was removed)"], ["onnxrt", "TLRUN_INFERENCE=onnxrt is not an engine"]]) {
      process.env.TLRUN_INFERENCE = v;
      assert.throws(() => inferenceSetting(), (e: unknown) => e instanceof TlrunError && e.message === `${says}\n  hint: set it to auto, onnxruntime or eager, or unset it`);
    }
  } finally {
    if (saved === undefined) delete process.env.TLRUN_INFERENCE;
    else process.env.TLRUN_INFERENCE = saved;
  }
});
