import { test } from "node:test";
import assert from "node:assert/strict";
import { chooseThreshold } from "../../src/evaluation/threshold";
import { operatingPoint } from "../../src/evaluation/operating-point";

// A crafted validation split, 5 positives and 5 negatives. From the top threshold down:
// t     0.95 0.9 0.85 0.8 0.6 0.5 0.4 0.3 0.2 0.1
// sens  .2   .4  .6   .6  .6  .8  .8  .8  1   1
// spec  1    1   1    .8  .6  .6  .4  .2  .2  0
// J     .2   .4  .6   .4  .2  .4  .2  0   .2  0
const val = {
  scores: [0.95, 0.9, 0.85, 0.8, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1],
  positive: [1, 1, 1, 0, 0, 1, 0, 0, 1, 0],
};

test("target sensitivity picks the highest threshold whose val sensitivity reaches it", () => {
  assert.deepEqual(chooseThreshold({ target_sensitivity: 0.8 }, val, "TB"), { threshold: 0.5, rule: "target_sensitivity=0.8" });
  assert.equal(chooseThreshold({ target_sensitivity: 0.7 }, val, "TB").threshold, 0.5);
  assert.equal(chooseThreshold({ target_sensitivity: 0.6 }, val, "TB").threshold, 0.85);
  assert.equal(chooseThreshold({ target_sensitivity: 1 }, val, "TB").threshold, 0.2);
});

test("youden picks the maximum of sensitivity + specificity - 1, the highest threshold on a tie", () => {
  assert.deepEqual(chooseThreshold("youden", val, "TB"), { threshold: 0.85, rule: "youden" });
  // J = 0.5 at 0.8 and at 0.4: the higher wins
  const tie = { scores: [0.8, 0.6, 0.4, 0.2], positive: [1, 0, 1, 0] };
  assert.equal(chooseThreshold("youden", tie, "TB").threshold, 0.8);
});

test("a fixed number is used as is", () => {
  assert.deepEqual(chooseThreshold(0.3, val, "TB"), { threshold: 0.3, rule: "fixed" });
  assert.deepEqual(chooseThreshold(0.5, null, "TB"), { threshold: 0.5, rule: "0.5" });
});

test("a rule val cannot decide falls back to 0.5 with a threshold_unreached warning", () => {
  const noPositives = chooseThreshold({ target_sensitivity: 0.9 }, { scores: [0.2, 0.7], positive: [0, 0] }, "TB");
  assert.equal(noPositives.threshold, 0.5);
  assert.equal(noPositives.warning?.kind, "threshold_unreached");
  assert.match(noPositives.warning!.message, /target_sensitivity=0.9 could not be applied because the validation split has no 'TB' images, so tlrun used 0.5/);
  assert.match(chooseThreshold("youden", null, "TB").warning!.message, /there is no validation split/);
  assert.match(chooseThreshold("youden", { scores: [0.2, 0.7], positive: [1, 1] }, "TB").warning!.message, /lacks one of the two classes/);
});

test("the operating point at a threshold: counts, rates and intervals around them", () => {
  const p = operatingPoint(val, 0.5, { resamples: 300, seed: 3, confidence: 0.95, label: "val" });
  assert.deepEqual([p.threshold, p.tp, p.fp, p.tn, p.fn], [0.5, 4, 2, 3, 1]);
  assert.equal(p.sensitivity.value, 0.8);
  assert.equal(p.specificity.value, 0.6);
  assert.equal(p.ppv.value, 4 / 6);
  assert.equal(p.npv.value, 3 / 4);
  for (const e of [p.sensitivity, p.specificity, p.ppv, p.npv]) assert.ok(e.low! <= e.value! && e.value! <= e.high!, JSON.stringify(e));
  const off = operatingPoint(val, 0.99, { resamples: 0, seed: 3, confidence: 0.95, label: "val" });
  assert.deepEqual(off.ppv, { value: null, low: null, high: null });
  assert.deepEqual(off.sensitivity, { value: 0, low: null, high: null });
});
