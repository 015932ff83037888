import { test } from "node:test";
import assert from "node:assert/strict";
import { evaluateClassifier } from "../../src/training/metrics";
import { rocAuc } from "../../src/evaluation/curves";
import { learningRateAt } from "../../src/training/schedule";

test("rocAuc matches hand-worked values, ties count half", () => {
  assert.equal(rocAuc([0.1, 0.4, 0.35, 0.8], [false, false, true, true]), 0.75);
  assert.equal(rocAuc([0.5, 0.5], [false, true]), 0.5);
  assert.equal(rocAuc([0.2, 0.9], [false, false]), null);
});

test("evaluateClassifier gives accuracy, per-class PRF, macro scores and the confusion matrix", () => {
  // 3 classes, 5 samples; predictions: 0,1,1,2,0 for labels 0,1,2,2,1
  const labels = [0, 1, 2, 2, 1];
  const probs = [0.8, 0.1, 0.1, 0.1, 0.7, 0.2, 0.2, 0.5, 0.3, 0.1, 0.2, 0.7, 0.6, 0.3, 0.1];
  const r = evaluateClassifier(labels, probs, ["a", "b", "c"]);
  assert.equal(r.accuracy, 3 / 5);
  assert.deepEqual(r.confusion, [[1, 0, 0], [1, 1, 0], [0, 1, 1]]);
  assert.equal(r.per_class.a!.precision, 0.5);
  assert.equal(r.per_class.a!.recall, 1);
  assert.equal(r.per_class.c!.precision, 1);
  assert.equal(r.per_class.c!.recall, 0.5);
  assert.ok(Math.abs(r.macro_f1 - (2 / 3 + 0.5 + 2 / 3) / 3) < 1e-12);
  assert.ok(r.macro_auc! > 0 && r.macro_auc! <= 1);
});

test("learning-rate schedules: warmup, step, cosine", () => {
  const s = { type: "step" as const, warmup_epochs: 0, step_epochs: 2, gamma: 0.5, min_factor: 0 };
  assert.deepEqual([0, 1, 2, 3, 4].map((e) => learningRateAt(1, s, e, 5)), [1, 1, 0.5, 0.5, 0.25]);
  const c = { ...s, type: "cosine" as const, warmup_epochs: 1, min_factor: 0.1 };
  assert.equal(learningRateAt(1, c, 0, 6), 0.5);
  assert.equal(learningRateAt(1, c, 1, 6), 1);
  assert.ok(Math.abs(learningRateAt(1, c, 5, 6) - 0.1) < 1e-12);
  assert.equal(learningRateAt(2, { ...s, type: "constant" }, 9, 10), 2);
});
