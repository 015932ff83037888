import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import type { PhaseConfig } from "../../src/config/types";
import type { FitState } from "../../src/training/checkpoint";
import { fit } from "../../src/training/fit";

const phase = (patience: number): PhaseConfig => ({
  epochs: 12, optimizer: "sgd", learning_rate: 0.01, batch_size: 1, lr_decay: 1, lr_multipliers: [],
  schedule: { type: "constant", warmup_epochs: 0, step_epochs: 1, gamma: 1, min_factor: 0 },
  early_stopping: { enabled: true, monitor: "val_loss", patience, min_delta: 0, restore_best: true },
} as PhaseConfig);

/** Validation losses in this order, one per epoch: best at epoch 2, never better after. */
const LOSSES = [1.0, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.3, 1.4, 1.5];

/** fit() one weight for epochs whose validation loss is scripted; every checkpoint state kept. */
async function run(patience: number, resume?: FitState): Promise<{ epochs: number; bestEpoch: number; stoppedEarly: boolean; saved: FitState[] }> {
  const w = tf.variable(tf.scalar(1), true, `es_w_${patience}_${Math.random()}`);
  const saved: FitState[] = [];
  let calls = resume?.epochsDone ?? 0;
  try {
    const r = await fit({
      phaseName: "t", phase: phase(patience), epochOffset: 0, variables: [w],
      forward: () => tf.reshape(w, [1, 1]), loss: (_y, p) => tf.mean(tf.square(p)) as tf.Scalar,
      batches: async function* () { yield { x: tf.zeros([1, 1]), y: tf.zeros([1, 1]), n: 1 }; },
      batchesPerEpoch: 1, validate: async () => ({ loss: LOSSES[calls++]!, accuracy: 0 }), callbacks: {}, checkAbort: () => undefined,
      checkpoint: { resume, save: (s) => void saved.push(s), refused: (why) => assert.fail(why) },
    });
    return { epochs: r.history.length, bestEpoch: r.bestEpoch, stoppedEarly: r.stoppedEarly, saved };
  } finally {
    w.dispose();
  }
}

test("early_stopping.patience N stops after N epochs without improvement, as Keras' EarlyStopping", async () => {
  for (const patience of [1, 3, 4]) {
    const r = await run(patience);
    assert.equal(r.bestEpoch, 2);
    assert.equal(r.epochs, 2 + patience, `patience ${patience}: epochs run`);
    assert.equal(r.stoppedEarly, true);
    assert.deepEqual(r.saved.at(-1)!.early, { best: 0.5, bestEpoch: 1, waited: patience, stoppedEarly: true }, "the checkpoint's wait counter is the epochs since the best");
  }
});

test("a run resumed from a mid-wait checkpoint stops at the same epoch", async () => {
  const whole = await run(4);
  const afterEpoch4 = whole.saved[3]!;
  assert.equal(afterEpoch4.early.waited, 2);
  const resumed = await run(4, afterEpoch4);
  assert.deepEqual([resumed.epochs, resumed.bestEpoch, resumed.stoppedEarly], [whole.epochs, whole.bestEpoch, true]);
});
