import { test } from "node:test";
import assert from "node:assert/strict";
import { calibration } from "../../src/evaluation/calibration";

// four images, two classes
const labels = [0, 1, 0, 1];
const probs = [0.9, 0.1, 0.65, 0.35, 0.6, 0.4, 0.2, 0.8];

test("multi-class calibration: top-class confidence against whether argmax is right", () => {
  const c = calibration(labels, probs, 2, null);
  // bin 0.9: conf 0.9, right -> gap 0.1; bin 0.6: conf 0.625, 1 of 2 right -> 0.125 (x2); bin 0.8: 0.8, right -> 0.2
  assert.ok(Math.abs(c.ece - (0.1 + 2 * 0.125 + 0.2) / 4) < 1e-12);
  assert.equal(c.bins.length, 10);
  assert.deepEqual(c.bins.map((b) => b.count), [0, 0, 0, 0, 0, 0, 2, 0, 1, 1]);
  assert.ok(Math.abs(c.bins[6]!.confidence! - 0.625) < 1e-12);
  assert.equal(c.bins[6]!.accuracy, 0.5);
  assert.deepEqual(c.bins[0], { lo: 0, hi: 0.1, count: 0, confidence: null, accuracy: null });
});

test("binary calibration: the positive's probability against the observed positive rate", () => {
  const c = calibration(labels, probs, 2, { positive: 1, negative: 0 });
  // p(1) = 0.1 (neg), 0.35 (pos), 0.4 (neg), 0.8 (pos): gaps 0.1, 0.65, 0.4, 0.2
  assert.ok(Math.abs(c.ece - 1.35 / 4) < 1e-12);
  assert.deepEqual(c.bins.map((b) => b.count), [0, 1, 0, 1, 1, 0, 0, 0, 1, 0]);
  assert.equal(c.bins[3]!.accuracy, 1);
});

test("a probability of exactly 1 falls in the last bin; a perfectly calibrated set has ECE 0", () => {
  const c = calibration([0, 0], [1, 0, 1, 0], 2, null);
  assert.equal(c.bins[9]!.count, 2);
  assert.equal(c.ece, 0);
});
