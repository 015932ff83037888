import { test } from "node:test";
import assert from "node:assert/strict";
import { averagePrecision, capCurve, prCurve, rankedScores, rocAuc, rocCurve, weightedAuc } from "../../src/evaluation/curves";
import { Rng } from "../../src/util/rng";

const close = (a: number[], b: number[]): void => {
  assert.equal(a.length, b.length, `${a} vs ${b}`);
  a.forEach((v, i) => assert.ok(Math.abs(v - b[i]!) < 1e-9, `${a} vs ${b}`));
};

// scikit-learn 1.9.1's outputs for y = [0, 0, 1, 1], scores = [0.1, 0.4, 0.35, 0.8] (its docs' example)
const y = [0, 0, 1, 1];
const s = [0.1, 0.4, 0.35, 0.8];
// and for y = [1, 0, 1, 1, 0], scores = [0.9, 0.9, 0.5, 0.3, 0.1], with a tie across the classes
const yTie = [1, 0, 1, 1, 0];
const sTie = [0.9, 0.9, 0.5, 0.3, 0.1];

test("ROC AUC: Mann-Whitney with ties counting half, as scikit-learn's roc_auc_score", () => {
  assert.equal(rocAuc(s, y), 0.75);
  assert.ok(Math.abs(rocAuc(sTie, yTie)! - 0.5833333333333334) < 1e-12);
  assert.equal(rocAuc([0.5, 0.5], [false, true]), 0.5);
  assert.equal(rocAuc([0.2, 0.9], [false, false]), null);
  const y12 = [1, 0, 0, 1, 1, 0, 1, 0, 0, 0, 1, 0];
  const s12 = [0.2, 0.3, 0.3, 0.7, 0.7, 0.7, 0.5, 0.1, 0.6, 0.2, 0.9, 0.4];
  assert.ok(Math.abs(rocAuc(s12, y12)! - 0.7571428571428571) < 1e-12);
});

test("weighted AUC equals the AUC of the sample with each image repeated by its weight", () => {
  // weights [1, 2, 1, 0]: scores 0.1, 0.4, 0.4, 0.35 with only 0.35 positive -> beats 1 of 3 negatives
  assert.ok(Math.abs(weightedAuc(rankedScores(s, y), Int32Array.from([1, 2, 1, 0]))! - 1 / 3) < 1e-12);
  assert.equal(weightedAuc(rankedScores(s, y), Int32Array.from([1, 1, 0, 0])), null);
  assert.equal(weightedAuc(rankedScores(s, y), Int32Array.from([1, 1, 1, 1])), 0.75);
});

test("ROC curve matches scikit-learn's roc_curve (threshold +inf written as the top score + 1)", () => {
  const c = rocCurve(s, y);
  close(c.x, [0, 0, 0.5, 0.5, 1]);
  close(c.y, [0, 0.5, 0.5, 1, 1]);
  close(c.thresholds, [1.8, 0.8, 0.4, 0.35, 0.1]);
  // drop_intermediate: the point at 0.5 lies on the vertical run and is dropped by capCurve
  const t = capCurve(rocCurve(sTie, yTie));
  close(t.x, [0, 0.5, 0.5, 1]);
  close(t.y, [0, 1 / 3, 1, 1]);
  close(t.thresholds, [1.9, 0.9, 0.3, 0.1]);
  assert.deepEqual(rocCurve([0.1, 0.2], [1, 1]), { x: [], y: [], thresholds: [] });
});

test("precision-recall curve matches scikit-learn's, reversed so thresholds descend", () => {
  const c = prCurve(s, y);
  close(c.x, [0, 0.5, 0.5, 1, 1]);
  close(c.y, [1, 1, 0.5, 2 / 3, 0.5]);
  close(c.thresholds, [1.8, 0.8, 0.4, 0.35, 0.1]);
  const t = prCurve(sTie, yTie);
  close(t.x, [0, 1 / 3, 2 / 3, 1, 1]);
  close(t.y, [1, 0.5, 2 / 3, 0.75, 0.6]);
});

test("average precision matches scikit-learn's average_precision_score", () => {
  assert.ok(Math.abs(averagePrecision(s, y)! - 0.8333333333333333) < 1e-12);
  // by hand: 1/3 * 1/2 + 1/3 * 2/3 + 1/3 * 3/4 = 23/36
  assert.ok(Math.abs(averagePrecision(sTie, yTie)! - 23 / 36) < 1e-12);
  const y12 = [1, 0, 0, 1, 1, 0, 1, 0, 0, 0, 1, 0];
  const s12 = [0.2, 0.3, 0.3, 0.7, 0.7, 0.7, 0.5, 0.1, 0.6, 0.2, 0.9, 0.4];
  assert.ok(Math.abs(averagePrecision(s12, y12)! - 0.7242424242424241) < 1e-12);
  assert.equal(averagePrecision([0.3, 0.4], [0, 0]), null);
});

test("capCurve keeps a long curve under the cap, with its ends and its area", () => {
  const rng = new Rng(7);
  const n = 5000;
  const truth = Array.from({ length: n }, () => rng.next() < 0.3);
  const scores = truth.map((p) => (p ? 0.3 : 0) + rng.next() * 0.7);
  const full = rocCurve(scores, truth);
  const capped = capCurve(full, 200);
  assert.ok(full.x.length > 1000);
  assert.ok(capped.x.length <= 200 && capped.x.length >= 190, `${capped.x.length} points`);
  assert.equal(capped.thresholds.length, capped.x.length);
  assert.deepEqual([capped.x[0], capped.y[0], capped.x.at(-1), capped.y.at(-1)], [0, 0, 1, 1]);
  const area = (c: { x: number[]; y: number[] }): number => c.x.slice(1).reduce((a, x, i) => a + (x - c.x[i]!) * (c.y[i + 1]! + c.y[i]!) / 2, 0);
  assert.ok(Math.abs(area(full) - rocAuc(scores, truth)!) < 1e-9);
  assert.ok(Math.abs(area(capped) - area(full)) < 0.001, `${area(capped)} vs ${area(full)}`);
  // points on a straight line collapse to the two ends, losing nothing
  assert.deepEqual(capCurve({ x: [0, 0.25, 0.5, 1], y: [0, 0.25, 0.5, 1], thresholds: [4, 3, 2, 1] }), { x: [0, 1], y: [0, 1], thresholds: [4, 1] });
});
