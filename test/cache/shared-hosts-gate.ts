import { existsSync } from "node:fs";

/**
 * Preloaded (`node -r`) into each worker of the shared-cache test: it blocks until the file
 * named by TLRUN_TEST_GATE exists, so the test can start every worker process first and then
 * let them all go at one moment. A restarted worker finds the file there and goes on at once.
 */
const gate = process.env.TLRUN_TEST_GATE;
if (gate) {
  const cell = new Int32Array(new SharedArrayBuffer(4));
  while (!existsSync(gate)) Atomics.wait(cell, 0, 0, 5);
}
