/**
 * head.depths end to end on real emoji (3 classes, 32 px): extract joins every block's pooled
 * features, the head trains on them with its fixed norm (compiled, no statistics assigned), and
 * the model evaluate saves (base, pooling at every depth, head in one graph) predicts the test
 * split as the head did on the cached features. Grad-CAM still explains the cut.
 */
import { test } from "node:test";
import { spawnSync } from "node:child_process";
import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadConfig } from "../../src/config";
import { execute } from "../../src/executor/execute";
import type { Manifest } from "../../src/data/manifest";
import { FEATURE_INDEX, type FeatureIndex } from "../../src/stages/extract";
import { tempDir, tinyEmojiDataset, tinyPipeline } from "../helpers";

const TLRUN = join(__dirname, "../../../bin/tlrun.js");

/** The tiny pipeline without fine-tuning, with `head` replacing its head block. */
function depthsPipeline(data: string, runs: string, head: string): string {
  return tinyPipeline(data, runs, "evaluate: { explain: { n: 2 } }\n")
    .replace(/freeze:\n  at: block_16_expand\n/, "")
    .replace(/  fine_tune: .*\n/, "  fine_tune: null\n")
    .replace(/head:\n  layers: .*\n/, `head:\n${head}`);
}

test("a head on every block: joined features, a compiled head, and a saved model that predicts as the head did", async (t) => {
  const root = tempDir(t);
  const data = tinyEmojiDataset(join(root, "data"), 16);
  const file = join(root, "p.yaml");
  writeFileSync(file, depthsPipeline(data, join(root, "runs"), "  depths: blocks\n  layers: [{ units: 16, activation: relu, dropout: 0.1 }]\n"));
  const run = await execute(loadConfig(file), { renderer: "silent", checkLeaks: true });
  assert.equal(run.status, "completed");

  const extract = run.stages.find((s) => s.name === "extract")!;
  const index = JSON.parse(readFileSync(join(root, "runs", ".cache", "extract", extract.key!, FEATURE_INDEX), "utf8")) as FeatureIndex;
  assert.equal(index.depths?.layers.length, 17, "MobileNetV2's 17 blocks below out_relu");
  assert.equal(index.depths?.dims.at(-1), 1280, "the cut's channels last");
  assert.equal(index.dim, index.depths!.dims.reduce((a, b) => a + b, 0));

  const head = run.stages.find((s) => s.name === "train-head")!;
  assert.doesNotMatch(String(head.info?.training_step), /head_norm/, "the norm's statistics are fixed, so no step assigns them");

  // the saved model, through `tlrun predict`, against evaluate's confusion matrix on the cached features
  const report = JSON.parse(readFileSync(join(run.run_dir, "report.json"), "utf8"));
  assert.equal(report.source, "cached features");
  const manifest = JSON.parse(readFileSync(join(run.run_dir, "manifest.json"), "utf8")) as Manifest;
  const testItems = manifest.items.filter((it) => it.split === "test");
  const predicted = spawnSync(process.execPath, [TLRUN, "predict", run.run_dir, ...testItems.map((it) => join(data, it.rel)), "--json"], { encoding: "utf8" });
  assert.equal(predicted.status, 0, predicted.stderr);
  const rows = predicted.stdout.trim().split("\n").map((l) => JSON.parse(l) as { path: string; predicted: string });
  const confusion = manifest.classes.map(() => manifest.classes.map(() => 0));
  rows.forEach((r, i) => confusion[testItems[i]!.label]![manifest.classes.indexOf(r.predicted)]!++);
  assert.deepEqual(confusion, report.confusion);

  assert.ok(existsSync(join(run.run_dir, "plots", "explain_0.png")), "Grad-CAM at the cut");
  assert.equal(report.explain.length, 2);
});

test("head.depths is refused with fine-tuning, and a named layer that is not one, before anything runs", (t) => {
  const root = tempDir(t);
  const file = join(root, "p.yaml");
  writeFileSync(file, tinyPipeline(join(root, "data"), join(root, "runs"), "").replace(/head:\n/, "head:\n  depths: [block_6_project, block_6_projet]\n"));
  const r = spawnSync(process.execPath, [TLRUN, "validate", file], { encoding: "utf8" });
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /p\.yaml:\d+:\d+: error: head\.depths names 'block_6_projet', which is not a layer of mobilenet_v2 at or below the cut 'out_relu'\n\s+hint: did you mean 'block_6_project'/);
  assert.match(r.stderr, /head\.depths and train\.fine_tune do not go together/);
  assert.doesNotMatch(r.stderr, /\n\s+at /, "no stack trace");
});
