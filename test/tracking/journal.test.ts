import { test } from "node:test";
import assert from "node:assert/strict";
import { hostname } from "node:os";
import { settledSummary } from "../../src/tracking/journal";
import type { RunSummary } from "../../src/runs/record";

const base: RunSummary = {
  run_id: "r", run_dir: "/x", name: "n", status: "running", backend: "cpu", started_at: new Date(0).toISOString(),
  stages: [], metrics: {}, warnings: [], host: hostname(),
};

test("a running summary whose process is gone settles as interrupted; a live one stays running", () => {
  const dead = settledSummary({ ...base, pid: 2 ** 22 + 12345 });
  assert.equal(dead.status, "interrupted");
  assert.match(dead.error!, /killed/);
  assert.equal(settledSummary({ ...base, pid: process.pid }).status, "running");
  assert.equal(settledSummary({ ...base, pid: 2 ** 22 + 12345, host: "elsewhere" }).status, "running");
  assert.equal(settledSummary({ ...base, status: "completed", pid: 2 ** 22 + 12345 }).status, "completed");
});
