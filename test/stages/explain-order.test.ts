import { test } from "node:test";
import assert from "node:assert/strict";
import { explainOrder } from "../../src/stages/explain-order";

const rows = (...r: number[][]): Float32Array => new Float32Array(r.flat());

test("binary: false negatives (most confidently negative first), then false positives, then correct; at the threshold", () => {
  // classes [normal, tb], positive tb (1), threshold 0.3: predicted tb when P(tb) >= 0.3
  const labels = [1, 1, 0, 0, 1, 0, 1];
  const probs = rows([0.9, 0.1], [0.75, 0.25], [0.6, 0.4], [0.1, 0.9], [0.7, 0.3], [0.95, 0.05], [0.2, 0.8]);
  const picks = explainOrder(labels, probs, 2, 10, { positive: 1, threshold: 0.3 });
  assert.deepEqual(picks.map((p) => [p.index, p.kind]), [
    [0, "false_negative"], [1, "false_negative"], // P(normal) 0.9, then 0.75
    [3, "false_positive"], [2, "false_positive"], // P(tb) 0.9, then 0.4
    [5, "correct"], [6, "correct"], [4, "correct"], // 0.95, 0.8, then P(tb) 0.3 exactly at the threshold
  ]);
  assert.equal(picks[0]!.predicted, 0);
  assert.ok(Math.abs(picks[0]!.probability - 0.9) < 1e-6, "the probability of the predicted class");
  assert.deepEqual(explainOrder(labels, probs, 2, 3, { positive: 1, threshold: 0.3 }).map((p) => p.index), [0, 1, 3], "n in total");
  assert.deepEqual(explainOrder(labels, probs, 2, 0, { positive: 1, threshold: 0.3 }), []);
});

test("multi-class: errors by the confidence of the wrong class, then correct ones; argmax", () => {
  const labels = [0, 1, 2, 2];
  const probs = rows([0.2, 0.7, 0.1], [0.1, 0.8, 0.1], [0.5, 0.1, 0.4], [0.05, 0.9, 0.05]);
  const picks = explainOrder(labels, probs, 3, 10);
  assert.deepEqual(picks.map((p) => [p.index, p.kind, p.predicted]), [[3, "error", 1], [0, "error", 1], [2, "error", 0], [1, "correct", 1]]);
});

test("without a binary rule two classes take argmax and call every mistake an error", () => {
  const picks = explainOrder([1, 0], rows([0.6, 0.4], [0.3, 0.7]), 2, 5);
  assert.deepEqual(picks.map((p) => [p.index, p.kind]), [[1, "error"], [0, "error"]]);
});
