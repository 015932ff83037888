import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import * as tf from "@tensorflow/tfjs";
import { selectBackend } from "../../src/backend/select";
import { nearestNeighbours, project } from "../../src/audit/neighbours";
import { Rng } from "../../src/util/rng";

before(async () => void (await selectBackend("auto")));

function unitRows(n: number, d: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  const x = Float32Array.from({ length: n * d }, () => rng.next() - 0.5);
  for (let r = 0; r < n; r++) {
    const row = x.subarray(r * d, (r + 1) * d);
    const norm = Math.hypot(...row);
    for (let c = 0; c < d; c++) row[c]! /= norm;
  }
  return x;
}
const dot = (x: Float32Array, d: number, a: number, b: number): number => {
  let s = 0;
  for (let c = 0; c < d; c++) s += x[a * d + c]! * x[b * d + c]!;
  return s;
};

describe("nearestNeighbours", () => {
  it("finds the lists of a subset of rows among all rows, the same as the whole search's rows", () => {
    const d = 16;
    const x = unitRows(90, d, 4);
    const whole = nearestNeighbours(x, d, 5);
    const queries = Int32Array.from([17, 3, 88, 40, 41, 0]);
    const before = tf.memory().numTensors;
    const some = nearestNeighbours(x, d, 5, { queries, blockValues: 16 * 90 });
    assert.equal(tf.memory().numTensors, before);
    assert.equal(some.index.length, queries.length * 5);
    queries.forEach((q, r) => {
      assert.deepEqual([...some.index.subarray(r * 5, r * 5 + 5)], [...whole.index.subarray(q * 5, q * 5 + 5)], `row ${q}`);
      assert.ok(!some.index.subarray(r * 5, r * 5 + 5).includes(q), "a row is not its own neighbour");
    });
  });

  it("finds each row's nearest others, itself excluded, the same in small blocks as in one", () => {
    const d = 16;
    const x = unitRows(60, d, 1);
    const before = tf.memory().numTensors;
    const one = nearestNeighbours(x, d, 3);
    const blocks = nearestNeighbours(x, d, 3, { blockValues: 16 * 60 });
    assert.equal(tf.memory().numTensors, before);
    assert.deepEqual(blocks.index, one.index);
    for (let i = 0; i < 60; i++) {
      const best = [...Array(60).keys()].filter((j) => j !== i).sort((a, b) => dot(x, d, i, b) - dot(x, d, i, a))[0];
      assert.equal(one.index[i * 3], best);
      assert.ok(Math.abs(one.cosine[i * 3]! - dot(x, d, i, best!)) < 1e-5);
    }
  });
});

describe("project", () => {
  it("keeps cosines within a few hundredths at 256 dimensions, seeded", () => {
    const d = 1024;
    const x = unitRows(40, d, 2);
    // odd rows lean toward the row before them, so some cosines are high (about 0.9) and some near 0
    for (let r = 1; r < 40; r += 2) {
      for (let c = 0; c < d; c++) x[r * d + c] = 0.45 * x[r * d + c]! + x[(r - 1) * d + c]!;
      const row = x.subarray(r * d, (r + 1) * d);
      const norm = Math.hypot(...row);
      for (let c = 0; c < d; c++) row[c]! /= norm;
    }
    assert.ok(dot(x, d, 0, 1) > 0.85);
    const p = project(x, d, 256, 7);
    assert.deepEqual(project(x, d, 256, 7), p);
    let worst = 0;
    for (let a = 0; a < 40; a++) for (let b = a + 1; b < 40; b++) worst = Math.max(worst, Math.abs(dot(x, d, a, b) - dot(p, 256, a, b)));
    assert.ok(worst < 0.25, `largest cosine change ${worst}`);
  });
});
