import { test } from "node:test";
import assert from "node:assert/strict";
import { bootstrap, estimate, percentile } from "../../src/evaluation/bootstrap";
import { evaluationReport } from "../../src/evaluation/report";
import { classificationStatistic, oneVsRest } from "../../src/evaluation/statistics";
import { Rng } from "../../src/util/rng";

/** n images of k classes whose true class gets a probability boost of `signal`. */
function synthetic(n: number, k: number, signal: number, seed = 1): { labels: Int32Array; probs: Float32Array } {
  const rng = new Rng(seed);
  const labels = Int32Array.from({ length: n }, () => (rng.next() < 0.2 ? 1 : rng.int(k)));
  const probs = new Float32Array(n * k);
  for (let i = 0; i < n; i++) {
    let sum = 0;
    for (let c = 0; c < k; c++) sum += probs[i * k + c] = rng.next() + (c === labels[i] ? signal : 0);
    for (let c = 0; c < k; c++) probs[i * k + c]! /= sum;
  }
  return { labels, probs };
}

test("percentile interpolates between order statistics as numpy does", () => {
  assert.equal(percentile([1, 2, 3, 4], 0.25), 1.75);
  assert.equal(percentile([1, 2, 3, 4], 0.975), 3.925);
  assert.equal(percentile([5], 0.5), 5);
});

test("the bootstrap repeats for a seed, changes with the seed, and brackets the point estimate", () => {
  const { labels, probs } = synthetic(300, 3, 0.6);
  const predicted = Int32Array.from({ length: 300 }, (_, i) => [0, 1, 2].reduce((b, c) => (probs[i * 3 + c]! > probs[i * 3 + b]! ? c : b), 0));
  const columns = oneVsRest(labels, probs, 3);
  const stat = classificationStatistic(labels, predicted, 3, columns, [0, 1, 2]);
  const opts = { resamples: 500, seed: 42, confidence: 0.95, label: "test" };
  const a = bootstrap(300, opts, stat);
  assert.deepEqual(bootstrap(300, opts, stat), a);
  assert.notDeepEqual(bootstrap(300, { ...opts, seed: 43 }, stat), a);
  assert.notDeepEqual(bootstrap(300, { ...opts, label: "val" }, stat), a);
  const point = stat(new Int32Array(300).fill(1));
  for (const name of ["accuracy", "macro_f1", "macro_auc"]) {
    const iv = a.intervals[name]!;
    assert.ok(iv.low < point[name]! && point[name]! < iv.high, `${name}: ${iv.low} < ${point[name]} < ${iv.high}`);
    assert.ok(iv.high - iv.low < 0.2, `${name} interval is ${iv.high - iv.low} wide`);
  }
  assert.deepEqual(a.skipped, {});
});

test("a value undefined on a resample is skipped and counted; zero resamples give no interval", () => {
  let call = 0;
  const r = bootstrap(10, { resamples: 100, seed: 1, confidence: 0.95, label: "x" }, () => ({ always: 1, sometimes: call++ % 4 === 0 ? null : 2, never: null }));
  assert.deepEqual(r.skipped, { sometimes: 25, never: 100 });
  assert.deepEqual(r.intervals, { always: { low: 1, high: 1 }, sometimes: { low: 2, high: 2 } });
  assert.deepEqual(estimate(0.5, r, "never"), { value: 0.5, low: null, high: null });
  assert.deepEqual(bootstrap(10, { resamples: 0, seed: 1, confidence: 0.95, label: "x" }, () => ({ a: 1 })), { intervals: {}, skipped: {} });
});

const config = { positive_class: "", negative_class: "", threshold: 0.5, bootstrap: 1000, recall_floor: 0.5 };

test("timing: the whole report with 1,000 resamples of 1,000 images (printed, not asserted)", () => {
  for (const [k, binary] of [[2, true], [5, false], [10, false]] as const) {
    const { labels, probs } = synthetic(1000, k, 0.5, k);
    const val = synthetic(1000, k, 0.5, 99);
    const classes = Array.from({ length: k }, (_, c) => `c${c}`);
    const cfg = binary ? { ...config, positive_class: "c1", threshold: { target_sensitivity: 0.9 } } : config;
    evaluationReport({ split: "test", source: "t", classes, labels, probs, val, config: cfg, seed: 1, weights: "head" });
    const t0 = performance.now();
    const r = evaluationReport({ split: "test", source: "t", classes, labels, probs, val, config: cfg, seed: 1, weights: "head" });
    const ms = performance.now() - t0;
    console.log(`# evaluationReport, 1000 images, ${k} classes${binary ? " (binary, plus the val operating point's 1000 resamples)" : ""}, 1000 resamples: ${ms.toFixed(0)} ms`);
    assert.ok(r.accuracy.low !== null && r.macro_auc.high !== null);
  }
});
