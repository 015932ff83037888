import assert from "node:assert/strict";
import { test } from "node:test";
import { inOrder } from "../../src/util/in-order";

async function* items(n: number): AsyncGenerator<number> {
  for (let i = 0; i < n; i++) yield i;
}

test("inOrder keeps at most inFlight submissions outstanding and consumes them in order, however they finish", async () => {
  let outstanding = 0;
  let most = 0;
  const seen: number[] = [];
  const checks: number[] = [];
  await inOrder(items(9), 3, async (i) => {
    outstanding++;
    most = Math.max(most, outstanding);
    await new Promise((r) => setTimeout(r, (9 - i) * 3)); // later items finish first
    outstanding--;
    return i * 10;
  }, (r, i) => seen.push(r + i), () => checks.push(outstanding));
  assert.deepEqual(seen, [0, 11, 22, 33, 44, 55, 66, 77, 88]);
  assert.equal(most, 3);
  assert.equal(checks.length, 9, "beforeEach runs before every submission");
});

test("inOrder rejects with the first failure in order, and a failure of beforeEach stops it", async () => {
  const consumed: number[] = [];
  await assert.rejects(inOrder(items(6), 2, async (i) => {
    if (i === 2) throw new Error("batch 2 failed");
    return i;
  }, (r) => consumed.push(r)), /batch 2 failed/);
  assert.deepEqual(consumed, [0, 1]);
  let submitted = 0;
  await assert.rejects(inOrder(items(6), 2, async (i) => (submitted++, i), () => undefined, () => {
    if (submitted === 4) throw new Error("aborted");
  }), /aborted/);
  assert.equal(submitted, 4);
});
