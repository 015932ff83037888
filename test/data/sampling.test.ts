import { test } from "node:test";
import assert from "node:assert/strict";
import { balancedOrder, countByClass } from "../../src/data/sampling";
import { Rng } from "../../src/util/rng";

/** 20 of class 0, 3 of class 1, 7 of class 2, interleaved. */
const labels = [...Array(20).fill(0), ...Array(3).fill(1), ...Array(7).fill(2)];
new Rng(1).shuffle(labels);

test("none is every row once, in the shuffle the stages drew before sampling existed", () => {
  const order = balancedOrder(labels, "none", 42);
  assert.deepEqual(order, new Rng(42).shuffle(labels.map((_, i) => i)));
});

test("oversample draws k x max rows, the same count of each class, and every row of a small class", () => {
  const order = balancedOrder(labels, "oversample", 5);
  assert.equal(order.length, 3 * 20);
  assert.deepEqual(countByClass(labels, 3, order), [20, 20, 20]);
  for (let i = 0; i < labels.length; i++) assert.ok(order.includes(i), `row ${i} (class ${labels[i]}) is drawn`);
  // class 1 (3 rows) repeats each row 6 times and 2 of them a 7th time
  const ones = labels.flatMap((c, i) => (c === 1 ? [order.filter((r) => r === i).length] : [])).sort();
  assert.deepEqual(ones, [6, 7, 7]);
});

test("undersample draws k x min distinct rows, a fresh subset each epoch seed", () => {
  const a = balancedOrder(labels, "undersample", 5);
  const b = balancedOrder(labels, "undersample", 6);
  assert.equal(a.length, 9);
  assert.deepEqual(countByClass(labels, 3, a), [3, 3, 3]);
  assert.equal(new Set(a).size, a.length, "no row twice");
  assert.notDeepEqual([...a].sort(), [...b].sort(), "another epoch draws other rows");
});

test("the draw is deterministic per seed and differs between seeds", () => {
  for (const policy of ["none", "oversample", "undersample"] as const) {
    assert.deepEqual(balancedOrder(labels, policy, 9), balancedOrder(labels, policy, 9), policy);
    assert.notDeepEqual(balancedOrder(labels, policy, 9), balancedOrder(labels, policy, 10), policy);
  }
});

test("a class with no rows is left out of k", () => {
  const order = balancedOrder([0, 0, 0, 2], "oversample", 1);
  assert.deepEqual(countByClass([0, 0, 0, 2], 3, order), [3, 0, 3]);
});
