import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import type { FineTunePhaseConfig } from "../../src/config/types";
import { fineTuneOutcome } from "../../src/stages/fine-tune";
import { fit } from "../../src/training/fit";

const phase = (restore: boolean, enabled = true): FineTunePhaseConfig => ({
  epochs: 4, optimizer: "sgd", learning_rate: 0.05, batch_size: 4, lr_decay: 1, lr_multipliers: [],
  schedule: { type: "constant", warmup_epochs: 0, step_epochs: 1, gamma: 1, min_factor: 0 },
  early_stopping: { enabled, monitor: "val_loss", patience: 10, min_delta: 0, restore_best: restore },
});

/** fit() on one weight whose every step makes validation worse than where it started. */
async function worsening(restore: boolean, enabled = true): Promise<{ w: number; bestEpoch: number; history: Array<{ val_loss: number; val_accuracy: number }> }> {
  const w = tf.variable(tf.scalar(1), true, `baseline_w_${restore}_${enabled}_${Date.now()}`);
  try {
    // training pulls w towards 3; validation is best at w = 1
    const validate = async (): Promise<{ loss: number; accuracy: number }> => ({ loss: (w.dataSync()[0]! - 1) ** 2, accuracy: 0 });
    const r = await fit({
      phaseName: "t", phase: phase(restore, enabled), epochOffset: 0, variables: [w],
      forward: () => tf.reshape(w, [1, 1]), loss: (_y, p) => tf.mean(tf.square(tf.sub(p, 3))) as tf.Scalar,
      batches: async function* () { yield { x: tf.zeros([1, 1]), y: tf.zeros([1, 1]), n: 1 }; },
      batchesPerEpoch: 1, validate, callbacks: {}, checkAbort: () => undefined, baseline: await validate(),
    });
    return { w: w.dataSync()[0]!, bestEpoch: r.bestEpoch, history: r.history };
  } finally {
    w.dispose();
  }
}

test("with a baseline and restore_best, a phase whose every epoch is worse ends on its starting weights", async () => {
  const r = await worsening(true);
  assert.equal(r.bestEpoch, 0);
  assert.equal(r.w, 1, "the starting weight is back");
  assert.deepEqual(fineTuneOutcome(phase(true), { loss: 0, accuracy: 0 }, r), { head_val_loss: 0, head_val_accuracy: 0, kept_head: true, worse_than_head: false });
});

test("without restore_best the phase keeps its (worse) weights and says it ended worse than the head", async () => {
  const r = await worsening(false);
  assert.notEqual(r.w, 1);
  const o = fineTuneOutcome(phase(false), { loss: 0, accuracy: 0 }, r);
  assert.equal(o.kept_head, false);
  assert.equal(o.worse_than_head, true);
  const off = fineTuneOutcome(phase(true, false), { loss: 0, accuracy: 0 }, await worsening(true, false));
  assert.deepEqual([off.kept_head, off.worse_than_head], [false, true], "early stopping off: no restore, and the same plain warning");
});

test("a fine-tune that beats the head is neither kept back nor flagged", () => {
  const history = [{ val_loss: 0.5, val_accuracy: 0.8 }, { val_loss: 0.3, val_accuracy: 0.9 }];
  assert.deepEqual(fineTuneOutcome(phase(true), { loss: 0.4, accuracy: 0.85 }, { history, bestEpoch: 2 }), { head_val_loss: 0.4, head_val_accuracy: 0.85, kept_head: false, worse_than_head: false });
});
