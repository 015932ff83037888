import { test } from "node:test";
import assert from "node:assert/strict";
import { evaluationReport, type EvaluationInput } from "../../src/evaluation/report";
import { flatMetrics } from "../../src/evaluation/metrics-flat";
import { evaluateClassifier } from "../../src/training/metrics";

const config = { positive_class: "", negative_class: "", threshold: 0.5, bootstrap: 200, recall_floor: 0.5 };
/** Two-column probabilities from p(class 1). */
const twoColumns = (p: number[]): Float32Array => Float32Array.from(p.flatMap((x) => [1 - x, x]));

/** Every number in the report is finite: nulls, never NaN or Infinity. */
function assertFinite(value: unknown, path = "report"): void {
  if (typeof value === "number") assert.ok(Number.isFinite(value), `${path} is ${value}`);
  else if (value && typeof value === "object") for (const [k, v] of Object.entries(value)) assertFinite(v, `${path}.${k}`);
}

// validation: the threshold for sensitivity 0.8 is 0.5 (see threshold.test.ts)
const val = { labels: [1, 1, 1, 0, 0, 1, 0, 0, 1, 0], probs: twoColumns([0.95, 0.9, 0.85, 0.8, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1]) };
// test: at 0.5, TB 0.9 and 0.7 found, 0.45 and 0.3 missed; Normal 0.6 called TB
const binaryInput: EvaluationInput = {
  split: "test",
  source: "cached features",
  classes: ["Normal", "TB"],
  labels: [1, 1, 1, 1, 0, 0, 0, 0],
  probs: twoColumns([0.9, 0.7, 0.45, 0.3, 0.6, 0.4, 0.2, 0.1]),
  val,
  config: { ...config, positive_class: "TB", threshold: { target_sensitivity: 0.8 } },
  seed: 7,
  weights: "fine-tune",
};

test("binary report: threshold chosen on val, applied to test, confusion at the threshold", () => {
  const r = evaluationReport(binaryInput);
  const b = r.binary!;
  assert.deepEqual([b.positive_class, b.negative_class, b.rule, b.threshold], ["TB", "Normal", "target_sensitivity=0.8", 0.5]);
  assert.deepEqual([b.val!.tp, b.val!.fp, b.val!.tn, b.val!.fn, b.val!.sensitivity.value], [4, 2, 3, 1, 0.8]);
  assert.deepEqual([b.test.tp, b.test.fp, b.test.tn, b.test.fn], [2, 1, 3, 2]);
  assert.deepEqual([b.test.sensitivity.value, b.test.specificity.value, b.test.ppv.value, b.test.npv.value], [0.5, 0.75, 2 / 3, 3 / 5]);
  assert.deepEqual(r.confusion, [[3, 1], [2, 2]]);
  assert.equal(r.accuracy.value, 5 / 8);
  // 13 of the 16 positive-negative pairs ranked right
  assert.equal(b.auc.value, 13 / 16);
  assert.ok(b.auc.low! <= b.auc.value! && b.auc.value! <= b.auc.high!);
  assert.equal(r.per_class.TB!.recall, 0.5);
  assert.equal(r.per_class.Normal!.specificity, 0.5);
  assert.deepEqual([r.roc, r.pr], [{}, {}]);
  assert.equal(b.roc.x[0], 0);
  assert.equal(b.roc.y.at(-1), 1);
  assert.deepEqual(r.warnings.map((w) => w.kind), ["small_split", "small_split"]);
  assert.deepEqual(r.bootstrap.resamples, 200);
  assert.deepEqual([r.weights, r.explain, r.split, r.source, r.n], ["fine-tune", [], "test", "cached features", 8]);
  assertFinite(r);
  assert.deepEqual(evaluationReport(binaryInput), r, "the same seed gives the same report");
});

test("flat metrics: stable names, intervals, val's operating point, only finite numbers", () => {
  const m = flatMetrics(evaluationReport(binaryInput));
  assert.equal(m.test_accuracy, 5 / 8);
  assert.equal(m.test_sensitivity, 0.5);
  assert.equal(m.test_specificity, 0.75);
  assert.equal(m.test_auc, 13 / 16);
  assert.equal(m.threshold, 0.5);
  assert.equal(m.val_sensitivity, 0.8);
  assert.equal(m.val_specificity, 0.6);
  assert.equal(m["test_recall/TB"], 0.5);
  for (const name of ["test_accuracy_low", "test_accuracy_high", "test_macro_f1_low", "test_auc_low", "test_sensitivity_high", "test_ece", "test_log_loss"]) assert.ok(name in m, name);
  for (const [k, v] of Object.entries(m)) assert.ok(Number.isFinite(v), `${k} = ${v}`);
});

test("multi-class report: argmax, per-class curves, no intervals when bootstrap is 0", () => {
  const probs = [0.8, 0.1, 0.1, 0.1, 0.7, 0.2, 0.2, 0.5, 0.3, 0.1, 0.2, 0.7, 0.6, 0.3, 0.1];
  const r = evaluationReport({ split: "val", source: "images", classes: ["a", "b", "c"], labels: [0, 1, 2, 2, 1], probs, config: { ...config, bootstrap: 0 }, seed: 1, weights: "head" });
  assert.deepEqual(r.confusion, [[1, 0, 0], [1, 1, 0], [0, 1, 1]]);
  assert.deepEqual(r.accuracy, { value: 3 / 5, low: null, high: null });
  assert.equal(r.binary, null);
  assert.deepEqual(Object.keys(r.roc), ["a", "b", "c"]);
  assert.ok(Math.abs(r.log_loss - -(Math.log(0.8) + Math.log(0.7) + Math.log(0.3) + Math.log(0.7) + Math.log(0.3)) / 5) < 1e-12);
  // the same figures as train-head's quick metrics
  const quick = evaluateClassifier([0, 1, 2, 2, 1], probs, ["a", "b", "c"]);
  assert.equal(r.macro_f1.value, quick.macro_f1);
  assert.equal(r.macro_auc.value, quick.macro_auc);
  const m = flatMetrics(r);
  assert.equal(m.val_accuracy, 3 / 5);
  assert.ok(!("val_accuracy_low" in m) && !("threshold" in m));
  assert.equal(m["val_specificity/a"], 3 / 4);
});

test("a class absent from the split has no AUC or curve, and macro AUC averages the others", () => {
  const probs = [0.7, 0.2, 0.1, 0.3, 0.6, 0.1, 0.6, 0.3, 0.1, 0.2, 0.5, 0.3];
  const r = evaluationReport({ split: "test", source: "images", classes: ["a", "b", "c"], labels: [0, 1, 0, 1], probs, config, seed: 1, weights: "head" });
  assert.equal(r.per_class.c!.auc, null);
  assert.equal(r.macro_auc.value, 1);
  assert.deepEqual(Object.keys(r.roc), ["a", "b"]);
  assert.ok(!("test_auc/c" in flatMetrics(r)));
  assertFinite(r);
  assert.ok(r.warnings.some((w) => w.kind === "small_split" && w.message.includes("only 0 'c' images")));
});

test("labels and probabilities that do not line up are refused", () => {
  const base = { split: "test", source: "x", classes: ["a", "b"], config, seed: 1, weights: "head" as const };
  assert.throws(() => evaluationReport({ ...base, labels: [0, 1], probs: [0.5, 0.5, 0.5] }), /test has 2 labels but 3 probabilities for 2 classes/);
  assert.throws(() => evaluationReport({ ...base, labels: [0, 2], probs: [0.5, 0.5, 0.5, 0.5] }), /label 2 at 1 is not a class index below 2/);
});

test("a sensitivity target met on val but clearly missed on test is a warning with the misses", () => {
  // 40 TB images, half scored under the val threshold (0.5); 40 Normal images well under it
  const labels = [...Array<number>(40).fill(1), ...Array<number>(40).fill(0)];
  const p = [...Array.from({ length: 40 }, (_, i) => (i % 2 ? 0.9 : 0.3)), ...Array<number>(40).fill(0.1)];
  const r = evaluationReport({ ...binaryInput, labels, probs: twoColumns(p) });
  const w = r.warnings.find((x) => x.kind === "target_missed");
  assert.ok(w, JSON.stringify(r.warnings));
  assert.match(w.message, /reached sensitivity 0\.80 on validation but 0\.50 \(95% CI 0\.\d\d–0\.\d\d\) on test, short of the 0\.8 target: 20 'TB' images were missed/);
  // met on test: no warning
  assert.equal(evaluationReport({ ...binaryInput, labels, probs: twoColumns(p.map((x) => (x === 0.3 ? 0.7 : x))) }).warnings.some((x) => x.kind === "target_missed"), false);
});
