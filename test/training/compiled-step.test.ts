import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { selectBackend } from "../../src/backend/select";
import type { OptimizerName, PhaseConfig } from "../../src/config/types";
import { fit, type Batch, type FitResult } from "../../src/training/fit";
import { GroupOptimizer, type ParamGroup } from "../../src/training/param-groups";
import { CompiledSteps, type EagerStep } from "../../src/training/compiled-step";
import { SeededDropout } from "../../src/models/seeded-dropout";

const native = async (): Promise<boolean> => (await selectBackend("auto")).name === "native";
const SKIP = "needs the native backend";

/** conv 1x1 -> BatchNorm (inference or training mode) -> relu6 -> mean -> dropout? -> dense softmax, seeded. */
function model(tag: string, opts: { bnTraining?: boolean; dropout?: number; seededDropout?: number } = {}) {
  const conv = tf.layers.conv2d({ filters: 6, kernelSize: 1, useBias: false, name: `${tag}_conv`, kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) });
  const bn = tf.layers.batchNormalization({ name: `${tag}_bn`, movingVarianceInitializer: "ones" });
  const dense = tf.layers.dense({ units: 3, activation: "softmax", name: `${tag}_dense`, kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) });
  const drop = opts.dropout ? tf.layers.dropout({ rate: opts.dropout, name: `${tag}_drop` })
    : opts.seededDropout ? new SeededDropout({ rate: opts.seededDropout, seed: 5, name: `${tag}_drop` }) : undefined;
  const x = tf.input({ shape: [4, 4, 5] });
  const top = tf.model({ inputs: x, outputs: tf.layers.reLU({ maxValue: 6 }).apply(bn.apply(conv.apply(x))) as tf.SymbolicTensor });
  const head = tf.sequential({ layers: [tf.layers.globalAveragePooling2d({ inputShape: [4, 4, 6] }), ...(drop ? [drop] : []), dense] });
  const forward = (input: tf.Tensor | tf.Tensor[], training: boolean): tf.Tensor =>
    head.apply(top.apply(input, { training: opts.bnTraining ?? false }), { training }) as tf.Tensor;
  // Conv and dense as separate groups: the dense from epoch 0, the conv (at a tenth of the rate) from epoch 1.
  const groups: ParamGroup[] = [
    { variables: dense.trainableWeights.map((w) => w.read() as tf.Variable), lrFactor: 1, fromEpoch: 0 },
    { variables: conv.trainableWeights.map((w) => w.read() as tf.Variable), lrFactor: 0.1, fromEpoch: 1 },
  ];
  return { top, head, forward, groups, dispose: () => (top.dispose(), head.dispose()) };
}

/** 7 batches of 8 and a last one of 3, the same every epoch. */
function data(): Batch[] {
  return Array.from({ length: 8 }, (_, b) => {
    const n = b === 7 ? 3 : 8;
    return { x: tf.randomNormal([n, 4, 4, 5], 1, 2, "float32", b + 1), y: tf.tidy(() => tf.oneHot(tf.tensor1d(Array.from({ length: n }, (_, i) => (i + b) % 3), "int32"), 3)), n };
  });
}

function phase(optimizer: OptimizerName): PhaseConfig {
  return {
    epochs: 3, optimizer, learning_rate: 0.01, batch_size: 8,
    schedule: { type: "cosine", warmup_epochs: 0, step_epochs: 1, gamma: 1, min_factor: 0.1 },
    early_stopping: { enabled: false, monitor: "val_loss", patience: 0, min_delta: 0, restore_best: false },
  };
}

/** fit() on model(tag) with the compiled step on or off; the trained weights, the history and how the steps ran. */
async function train(tag: string, compiled: boolean, opts: Parameters<typeof model>[1] & { optimizer?: OptimizerName } = {}) {
  const m = model(tag, opts);
  const initial = m.top.weights[0]!.read().dataSync().slice();
  const batches = data();
  const before = process.env.TLRUN_COMPILED_STEP;
  process.env.TLRUN_COMPILED_STEP = compiled ? "1" : "0";
  let result: FitResult;
  try {
    result = await fit({
      phaseName: "test", phase: phase(opts.optimizer ?? "adam"), epochOffset: 0, variables: m.groups.flatMap((g) => g.variables), groups: m.groups,
      forward: m.forward, loss: (y, p) => tf.losses.softmaxCrossEntropy(y, tf.log(p)) as tf.Scalar,
      // fit disposes every batch it is given, so it gets clones.
      batches: async function* () { for (const b of batches) yield { x: tf.clone(b.x as tf.Tensor), y: tf.clone(b.y), n: b.n }; },
      batchesPerEpoch: batches.length, validate: async () => ({ loss: 0, accuracy: 0 }), callbacks: {}, checkAbort: () => undefined,
    });
  } finally {
    if (before === undefined) delete process.env.TLRUN_COMPILED_STEP;
    else process.env.TLRUN_COMPILED_STEP = before;
  }
  const weights = [...m.top.weights, ...m.head.weights].map((w) => w.read().dataSync().slice());
  tf.dispose(batches.flatMap((b) => [b.x as tf.Tensor, b.y]));
  m.dispose();
  return { weights, initial, result };
}

for (const dropout of [0, 0.5])
test(`compiled training steps give the eager steps' weights, with a short last batch, rate changes and a group unfrozen later${dropout ? ", dropout masks included" : ""}`, async (t) => {
  if (!(await native())) return t.skip(SKIP);
  const tensors = tf.memory().numTensors;
  const eager = await train("e", false, { seededDropout: dropout });
  const compiled = await train("c", true, { seededDropout: dropout });
  assert.match(eager.result.steps, /^eager: TLRUN_COMPILED_STEP=0/);
  // Per set of trained variables: one eager step, one recorded, one checked against eager; the short last batch is a set of its own.
  // Epoch 0 (dense only): steps 4..7 compiled of 7 full batches = 4; epochs 1, 2 (dense + conv): 4 + 7.
  assert.match(compiled.result.steps, /^tensorflow graph, \d+ ops: 15 of 24 steps$/);
  eager.weights.forEach((w, i) => {
    const scale = Math.max(1e-6, ...w.map(Math.abs));
    const diff = Math.max(...w.map((v, j) => Math.abs(v - compiled.weights[i]![j]!)));
    assert.ok(diff / scale < 1e-5, `weight ${i} differs by ${diff / scale} relative`);
  });
  compiled.result.history.forEach((h, i) => assert.ok(Math.abs(h.loss - eager.result.history[i]!.loss) < 1e-5, `epoch ${i + 1} loss`));
  assert.notDeepEqual(compiled.weights[0], compiled.initial, "the conv trained");
  assert.equal(tf.memory().numTensors, tensors, "no tensors left behind");
});

test("a step that updates other variables (BatchNorm statistics in training mode) stays eager, and says why", async (t) => {
  if (!(await native())) return t.skip(SKIP);
  const { result } = await train("bn", true, { bnTraining: true });
  assert.match(result.steps, /^eager: the step also assigns bn_bn\/moving_(mean|variance)/);
});

test("masks drawn outside a NoiseSource (tfjs' own unseeded Dropout) do not match a recording, so those steps stay eager", async (t) => {
  if (!(await native())) return t.skip(SKIP);
  const { result } = await train("drop", true, { dropout: 0.5 });
  assert.match(result.steps, /^eager: the compiled step differs from the eager one/);
});

test("optimizers other than adam run eagerly", async (t) => {
  if (!(await native())) return t.skip(SKIP);
  const { result } = await train("sgd", true, { optimizer: "sgd" });
  assert.equal(result.steps, "eager: the sgd optimizer runs eagerly");
});

test("a set of steps that cannot compile leaves the others compiled", async (t) => {
  if (!(await native())) return t.skip(SKIP);
  const w = tf.variable(tf.ones([4, 1]), true, "refusal_w");
  const stray = tf.variable(tf.zeros([1]), false, "refusal_stray");
  const opt = new GroupOptimizer("adam", [{ variables: [w], lrFactor: 1, fromEpoch: 0 }]);
  opt.startEpoch(0, 0.1);
  // Batches of 3 also bump a variable the step does not carry, so their set is refused.
  const eager: EagerStep = (x, y) => {
    let hits: tf.Tensor | undefined;
    const cost = opt.minimize(() => {
      hits = tf.keep(tf.sum(y));
      return tf.sum(tf.square(tf.sub(tf.matMul(x as tf.Tensor2D, w), y))) as tf.Scalar;
    });
    if ((x as tf.Tensor).shape[0] === 3) tf.tidy(() => stray.assign(tf.add(stray, 1)));
    return [cost, hits!];
  };
  const steps = new CompiledSteps(eager, () => opt.stepState());
  for (const n of [8, 8, 3, 3, 8, 8, 8, 3]) {
    const x = tf.randomNormal([n, 4], 0, 1, "float32", n);
    const y = tf.ones([n, 1]);
    tf.dispose([...(await steps.step(x, y)), x, y]);
  }
  // 8: eager, recorded, checked, compiled, compiled; 3: eager, recorded and refused, eager.
  assert.match(steps.describe(), /^tensorflow graph, \d+ ops: 2 of 8 steps; some eager: the step also assigns refusal_stray$/);
  assert.equal(Array.from(stray.dataSync())[0], 3, "every batch of 3 ran its whole step");
  steps.dispose();
  opt.dispose();
  tf.dispose([w, stray]);
});
