import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { selectBackend } from "../../src/backend/select";
import type { PhaseConfig } from "../../src/config/types";
import { classWeights, exampleWeights } from "../../src/training/class-weight";
import { fit, type Batch } from "../../src/training/fit";
import { headLoss } from "../../src/training/head";

test("balanced weights are n / (k * n_c) over the train counts, as scikit-learn computes them", () => {
  assert.deepEqual(classWeights("balanced", ["a", "b"], [80, 20]), [100 / 160, 100 / 40]);
  assert.deepEqual(classWeights({ b: 4 }, ["a", "b", "c"], [1, 1, 1]), [1, 4, 1]);
  assert.equal(classWeights(null, ["a", "b"], [1, 1]), undefined);
  // a class with no training images is out of k and n
  assert.deepEqual(classWeights("balanced", ["a", "b", "c"], [30, 0, 10]), [40 / 60, 1, 40 / 20]);
});

/** A one-layer softmax or sigmoid "model": weights w [2, units]; no regulariser. */
const plainModel = { calculateLosses: () => [] } as unknown as tf.LayersModel;

test("the weighted cross-entropy of a hand-worked batch: sum(w_i * ce_i) / n, as Keras reduces sample weights", () => {
  // softmax, 3 examples: p(true class) = 0.5, 0.25, 0.8; class weights [1, 3]
  const y = tf.oneHot(tf.tensor1d([0, 1, 0], "int32"), 2);
  const p = tf.tensor2d([[0.5, 0.5], [0.75, 0.25], [0.8, 0.2]]);
  const w = exampleWeights([0, 1, 0], [1, 3]);
  const want = (1 * -Math.log(0.5) + 3 * -Math.log(0.25) + 1 * -Math.log(0.8)) / 3;
  assert.ok(Math.abs(headLoss(plainModel, y, p, w).dataSync()[0]! - want) < 1e-6);
  const plain = (-Math.log(0.5) - Math.log(0.25) - Math.log(0.8)) / 3;
  assert.ok(Math.abs(headLoss(plainModel, y, p).dataSync()[0]! - plain) < 1e-6, "unweighted: the plain mean");
  // sigmoid: p(positive) = 0.9 for a positive, 0.4 for a negative; weights [0.5, 2]
  const ys = tf.tensor2d([[1], [0]]);
  const ps = tf.tensor2d([[0.9], [0.4]]);
  const ws = exampleWeights([1, 0], [0.5, 2]);
  const wantS = (2 * -Math.log(0.9) + 0.5 * -Math.log(0.6)) / 2;
  assert.ok(Math.abs(headLoss(plainModel, ys, ps, ws).dataSync()[0]! - wantS) < 1e-6);
  tf.dispose([y, p, w, ys, ps, ws]);
});

const PHASE: PhaseConfig = {
  epochs: 2, optimizer: "adam", learning_rate: 0.05, batch_size: 6,
  schedule: { type: "constant", warmup_epochs: 0, step_epochs: 1, gamma: 1, min_factor: 0 },
  early_stopping: { enabled: false, monitor: "val_loss", patience: 0, min_delta: 0, restore_best: false },
};

/** fit() a 4 -> 2 softmax layer on 5 weighted batches per epoch, compiled or eager; the trained kernel and losses. */
async function train(compiled: boolean, weighted: boolean): Promise<{ kernel: Float32Array; losses: number[]; steps: string }> {
  const init = tf.randomNormal([4, 2], 0, 0.1, "float32", 3);
  const kernel = tf.variable(init, true, `cw_${compiled}_${weighted}_${Date.now()}`);
  init.dispose();
  const before = process.env.TLRUN_COMPILED_STEP;
  process.env.TLRUN_COMPILED_STEP = compiled ? "1" : "0";
  try {
    const result = await fit({
      phaseName: "test", phase: PHASE, epochOffset: 0, variables: [kernel],
      forward: (x) => tf.softmax(tf.matMul(x as tf.Tensor2D, kernel)),
      loss: (y, p, w) => headLoss(plainModel, y, p, w),
      batches: async function* (): AsyncGenerator<Batch> {
        for (let b = 0; b < 5; b++) {
          // each batch has its own mix of labels, so its weights differ: a constant baked into the graph would be wrong
          const labels = Array.from({ length: 6 }, (_, i) => ((i + b) % 3 === 0 ? 1 : 0));
          const x = tf.tidy(() => tf.add(tf.randomNormal([6, 4], 0, 1, "float32", 10 + b), tf.mul(tf.tensor2d(labels, [6, 1]), 1.5)));
          yield { x, y: tf.tidy(() => tf.oneHot(tf.tensor1d(labels, "int32"), 2)), ...(weighted ? { w: exampleWeights(labels, [0.6, 4]) } : {}), n: 6 };
        }
      },
      batchesPerEpoch: 5, validate: async () => ({ loss: 0, accuracy: 0 }), callbacks: {}, checkAbort: () => undefined,
    });
    return { kernel: kernel.dataSync().slice() as Float32Array, losses: result.history.map((h) => h.loss), steps: result.steps };
  } finally {
    if (before === undefined) delete process.env.TLRUN_COMPILED_STEP;
    else process.env.TLRUN_COMPILED_STEP = before;
    kernel.dispose();
  }
}

test("weighted training steps: the compiled step takes each batch's weights and matches the eager one", async (t) => {
  if ((await selectBackend("auto")).name !== "native") return t.skip("needs the native backend");
  const tensors = tf.memory().numTensors;
  const eager = await train(false, true);
  const compiled = await train(true, true);
  const unweighted = await train(false, false);
  assert.match(compiled.steps, /^tensorflow graph, \d+ ops: 7 of 10 steps$/);
  const scale = Math.max(...eager.kernel.map(Math.abs));
  eager.kernel.forEach((v, i) => assert.ok(Math.abs(v - compiled.kernel[i]!) / scale < 1e-5, `kernel ${i}`));
  eager.losses.forEach((l, i) => assert.ok(Math.abs(l - compiled.losses[i]!) < 1e-5, `epoch ${i + 1} loss`));
  assert.ok(Math.abs(eager.losses[0]! - unweighted.losses[0]!) > 1e-3, "the weights change the loss");
  assert.equal(tf.memory().numTensors, tensors, "no tensors left behind");
});

test("on an imbalanced, overlapping problem, balanced weights raise the minority class's recall", async () => {
  // 2-d features: 240 of class 0 around (0, 0), 24 of class 1 around (1, 1), sd 0.8: they overlap.
  const rng = (s: number) => () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648);
  const next = rng(11);
  const gauss = () => Math.sqrt(-2 * Math.log(next() + 1e-12)) * Math.cos(2 * Math.PI * next());
  const draw = (label: number, n: number) => Array.from({ length: n }, () => ({ x: [label + 0.8 * gauss(), label + 0.8 * gauss()], label }));
  const trainSet = [...draw(0, 240), ...draw(1, 24)];
  const testSet = draw(1, 200);
  const weights = classWeights("balanced", ["a", "b"], [240, 24])!;
  const minorityRecall = async (weighted: boolean): Promise<number> => {
    const init = tf.zeros([2, 2]);
    const kernel = tf.variable(init, true, `recall_${weighted}_${Date.now()}`);
    const bias = tf.variable(tf.zeros([2]), true, `recall_b_${weighted}_${Date.now()}`);
    init.dispose();
    const forward = (x: tf.Tensor | tf.Tensor[]) => tf.softmax(tf.add(tf.matMul(x as tf.Tensor2D, kernel), bias));
    try {
      await fit({
        phaseName: "test", phase: { ...PHASE, epochs: 30, learning_rate: 0.1 }, epochOffset: 0, variables: [kernel, bias], forward,
        loss: (y, p, w) => headLoss(plainModel, y, p, w),
        batches: async function* (): AsyncGenerator<Batch> {
          for (let s = 0; s < trainSet.length; s += 33) {
            const rows = trainSet.slice(s, s + 33);
            const labels = rows.map((r) => r.label);
            yield { x: tf.tensor2d(rows.map((r) => r.x)), y: tf.tidy(() => tf.oneHot(tf.tensor1d(labels, "int32"), 2)), ...(weighted ? { w: exampleWeights(labels, weights) } : {}), n: rows.length };
          }
        },
        batchesPerEpoch: 8, validate: async () => ({ loss: 0, accuracy: 0 }), callbacks: {}, checkAbort: () => undefined,
      });
      const pred = tf.tidy(() => tf.argMax(forward(tf.tensor2d(testSet.map((r) => r.x))), 1).dataSync());
      return pred.filter((p) => p === 1).length / testSet.length;
    } finally {
      kernel.dispose();
      bias.dispose();
    }
  };
  const plain = await minorityRecall(false);
  const balanced = await minorityRecall(true);
  assert.ok(balanced > plain + 0.3, `minority recall: ${plain.toFixed(2)} unweighted, ${balanced.toFixed(2)} balanced`);
});
