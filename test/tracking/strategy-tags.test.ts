import { test } from "node:test";
import assert from "node:assert/strict";
import { tagsOf, type Journal } from "../../src/tracking/journal";
import type { RunSummary } from "../../src/runs/record";
import { tempDir } from "../helpers";

const ctx = { source_name: "p.yaml", user: "u", tlrun_version: "0", target: { experiment: "e", runName: "r", tags: {} } };

function journal(dir: string, strategy?: Record<string, unknown>): Journal {
  const summary: RunSummary = { run_id: "r1", run_dir: dir, name: "p", status: "completed", backend: "native", started_at: "2026-12-06T00:00:00Z", stages: [], metrics: {}, warnings: [], ...(strategy ? { strategy } : {}) };
  return { dir, runId: "r1", summary, config: {}, epochs: [], points: [] };
}

test("strategy: auto's decision reaches MLflow as tags; an explicit run has none", (t) => {
  const dir = tempDir(t);
  const reason = "1,330 training images (148 per class), top features (out_relu) probe at 0.53 vs 0.66 at block_13: different, small → head on block_13_project, no fine-tuning.";
  const tags = new Map(tagsOf(journal(dir, { size: "small", similarity: "different", cut: "block_13_project", fine_tune: false, fine_tune_from: "block_13", reason }), ctx, []).map((kv) => [kv.key, kv.value]));
  assert.equal(tags.get("tlrun.strategy"), "small, different");
  assert.equal(tags.get("tlrun.strategy.cut"), "block_13_project");
  assert.equal(tags.get("tlrun.strategy.fine_tune"), "none");
  assert.equal(tags.get("tlrun.strategy.reason"), reason);
  const blocks = new Map(tagsOf(journal(dir, { size: "small", similarity: "similar", cut: "out_relu", head_depths: "blocks", fine_tune: false, fine_tune_from: "block_16", reason }), ctx, []).map((kv) => [kv.key, kv.value]));
  assert.equal(blocks.get("tlrun.strategy.cut"), "out_relu and every block below it");
  const large = new Map(tagsOf(journal(dir, { size: "large", similarity: "similar", cut: "out_relu", fine_tune: true, fine_tune_from: "block_13", reason }), ctx, []).map((kv) => [kv.key, kv.value]));
  assert.equal(large.get("tlrun.strategy.fine_tune"), "from block_13");
  assert.ok(!tagsOf(journal(dir), ctx, []).some((kv) => kv.key.startsWith("tlrun.strategy")));
});
