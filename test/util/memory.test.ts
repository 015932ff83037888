/**
 * collectGarbage (src/util/memory.ts), which the executor calls between stages: a large typed
 * array a stage dropped must go back to the system, not wait for V8's next collection.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { collectGarbage } from "../../src/util/memory";

const rssMiB = (): number => process.memoryUsage().rss / 2 ** 20;

test("a dropped 256 MiB array is returned to the system after collectGarbage, and is not before", async () => {
  let rows: Float32Array | undefined = new Float32Array(64 * 2 ** 20).fill(1); // 256 MiB, touched
  const held = rssMiB();
  assert.equal(rows[rows.length - 1], 1);
  rows = undefined;
  await sleep(200);
  assert.ok(rssMiB() > held - 64, `without a collection the array stays mapped (${held.toFixed(0)} -> ${rssMiB().toFixed(0)} MiB)`);
  collectGarbage();
  await sleep(200); // V8 frees array buffers on a background thread after the collection
  assert.ok(rssMiB() < held - 192, `after collectGarbage: ${held.toFixed(0)} -> ${rssMiB().toFixed(0)} MiB`);
});
