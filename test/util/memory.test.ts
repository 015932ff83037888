/**
 * collectGarbage (src/util/memory.ts), which the executor calls between stages: a large typed
 * array a stage dropped must be collected now and its memory go back to the system, not wait
 * for V8's next collection (at 100k images the audit's 1 GB of rows stayed through train-head).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { collectGarbage } from "../../src/util/memory";

const rssMiB = (): number => process.memoryUsage().rss / 2 ** 20;

test("a dropped 256 MiB array is collected by collectGarbage and its memory returned to the system", async () => {
  let rows: Float32Array | undefined = new Float32Array(64 * 2 ** 20).fill(1); // 256 MiB, touched
  const ref = new WeakRef(rows);
  const held = rssMiB();
  rows = undefined;
  await sleep(0); // a WeakRef keeps its target alive until the job that made it ends
  collectGarbage();
  assert.equal(ref.deref(), undefined, "the array is still alive after collectGarbage");
  await sleep(300); // V8 frees array buffers on a background thread after the collection
  assert.ok(rssMiB() < held - 192, `after collectGarbage: ${held.toFixed(0)} -> ${rssMiB().toFixed(0)} MiB`);
});
