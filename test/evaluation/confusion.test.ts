import { test } from "node:test";
import assert from "node:assert/strict";
import { accuracyOf, argmaxPredictions, classCounts, confusionMatrix, macroF1Of, thresholdPredictions } from "../../src/evaluation/confusion";

// 3 classes, 5 images; argmax predictions 0,1,1,2,0 for labels 0,1,2,2,1
const labels = [0, 1, 2, 2, 1];
const probs = [0.8, 0.1, 0.1, 0.1, 0.7, 0.2, 0.2, 0.5, 0.3, 0.1, 0.2, 0.7, 0.6, 0.3, 0.1];

test("argmax predictions and the confusion matrix, confusion[true][predicted]", () => {
  const predicted = argmaxPredictions(probs, 5, 3);
  assert.deepEqual([...predicted], [0, 1, 1, 2, 0]);
  assert.deepEqual(confusionMatrix(labels, predicted, 3), [[1, 0, 0], [1, 1, 0], [0, 1, 1]]);
});

test("per-class precision, recall, specificity, F1 and support, worked by hand", () => {
  const m = confusionMatrix(labels, [0, 1, 1, 2, 0], 3);
  // a: 1 of 2 predicted a is right; its 1 image found; 1 of the 4 others called a
  assert.deepEqual(classCounts(m, 0), { precision: 0.5, recall: 1, specificity: 3 / 4, f1: 2 / 3, support: 1 });
  assert.deepEqual(classCounts(m, 1), { precision: 0.5, recall: 0.5, specificity: 2 / 3, f1: 0.5, support: 2 });
  assert.deepEqual(classCounts(m, 2), { precision: 1, recall: 0.5, specificity: 1, f1: 2 / 3, support: 2 });
  assert.equal(accuracyOf(m), 3 / 5);
  // scikit-learn: f1_score([0,1,2,2,1], [0,1,1,2,0], average="macro") = 0.611111111111111
  assert.ok(Math.abs(macroF1Of(m) - 0.611111111111111) < 1e-12);
});

test("a class never predicted nor present has zero rates, not NaN", () => {
  const m = confusionMatrix([0, 0, 1], [0, 0, 1], 3);
  assert.deepEqual(classCounts(m, 2), { precision: 0, recall: 0, specificity: 1, f1: 0, support: 0 });
});

test("weights count an image several times (a bootstrap resample)", () => {
  const m = confusionMatrix(labels, [0, 1, 1, 2, 0], 3, [2, 0, 1, 1, 3]);
  assert.deepEqual(m, [[2, 0, 0], [3, 0, 0], [0, 1, 1]]);
  assert.equal(accuracyOf(m), 3 / 7);
});

test("binary decisions: positive when p(positive) >= threshold", () => {
  const p = [0.3, 0.7, 0.6, 0.4, 0.5, 0.5];
  assert.deepEqual([...thresholdPredictions(p, 3, 2, { positive: 1, negative: 0 }, 0.5)], [1, 0, 1]);
  assert.deepEqual([...thresholdPredictions(p, 3, 2, { positive: 1, negative: 0 }, 0.6)], [1, 0, 0]);
  assert.deepEqual([...thresholdPredictions(p, 3, 2, { positive: 0, negative: 1 }, 0.55)], [1, 0, 1]);
});
