/**
 * ONNX Runtime's telemetry (src/models/onnx/runtime.ts): initialising it left an empty
 * `mat-debug-<pid>.log` and a `.ses` file in $TMPDIR after every run. Loaded through tlrun, on
 * the main thread and on a worker thread, it must leave $TMPDIR empty; loaded bare, it must not
 * (otherwise this test would pass on a machine where the file never appears).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { loadOrt } from "../../src/models/onnx/runtime";
import { tempDir } from "../helpers";

const RUNTIME = join(__dirname, "../../src/models/onnx/runtime.js");

/**
 * Run `script` in a fresh node with its own empty TMPDIR, and neither ORT_DISABLE_TELEMETRY nor
 * CI (ONNX Runtime starts no telemetry when CI is set, as it is in our CI); what it left there.
 */
function leftInTmp(t: Parameters<typeof tempDir>[0], script: string): string[] {
  const tmp = tempDir(t, "tlrun-ort-telemetry-");
  const env: NodeJS.ProcessEnv = { ...process.env, TMPDIR: tmp };
  delete env.ORT_DISABLE_TELEMETRY;
  delete env.CI;
  const r = spawnSync(process.execPath, ["-e", script], { env, encoding: "utf8", cwd: join(__dirname, "../..") });
  assert.equal(r.status, 0, r.stderr);
  return readdirSync(tmp);
}

test("ONNX Runtime loaded through tlrun, on the main thread and on a worker, leaves nothing in TMPDIR", { skip: typeof loadOrt() === "string" ? "onnxruntime-node does not load" : false }, (t) => {
  const bare = leftInTmp(t, `require("onnxruntime-node/dist/binding").initOrt()`);
  assert.ok(bare.some((f) => /^mat-debug-\d+\.log$/.test(f)), `bare ONNX Runtime left ${bare.join(", ") || "nothing"}: the check below would prove nothing`);
  const worker = `
    const { Worker } = require("node:worker_threads");
    require(${JSON.stringify(RUNTIME)}); // as workers.ts imports it before starting a worker
    const w = new Worker(${JSON.stringify(`const o = require(${JSON.stringify(RUNTIME)}).loadOrt(); if (typeof o === "string") throw new Error(o);`)}, { eval: true });
    w.on("error", (e) => { console.error(e); process.exitCode = 1; });
  `;
  assert.deepEqual(leftInTmp(t, worker), []);
  const main = `const o = require(${JSON.stringify(RUNTIME)}).loadOrt(); if (typeof o === "string") throw new Error(o);`;
  assert.deepEqual(leftInTmp(t, main), []);
});
