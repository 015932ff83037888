/**
 * The stages on the new kinds of base, in process with the leak check on (each stage must leave
 * tf.memory().numTensors where it found it): attention_vgg16's attention head through extract,
 * train-head, fine-tune and evaluate, and a graph-model base through extract, train-head and
 * evaluate.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadConfig } from "../../src/config";
import { execute } from "../../src/executor/execute";
import { tempDir, tinyEmojiDataset, tinyPipeline } from "../helpers";
import { writeGraphModel } from "../models/graph-fixtures";
import { heInit, vgg16Layers, writeKerasH5 } from "../models/h5-fixtures";

test("attention_vgg16: every stage runs without leaking tensors; extract caches whole feature maps", { timeout: 10 * 60_000 }, async (t) => {
  const root = tempDir(t);
  process.env.TLRUN_CACHE = join(root, "cache");
  t.after(() => delete process.env.TLRUN_CACHE);
  const data = tinyEmojiDataset(join(root, "data"));
  await writeKerasH5(join(root, "vgg.h5"), vgg16Layers(), "weights", false, heInit(5));
  const file = join(root, "p.yaml");
  writeFileSync(file, tinyPipeline(data, join(root, "runs"))
    .replace("model: mobilenet_v2", "model: attention_vgg16\n  weights: vgg.h5")
    .replace("input_size: [32, 32]", "input_size: [64, 64]")
    .replace("at: block_16_expand", "at: block5_conv1"));
  const summary = await execute(loadConfig(file, { overrides: ["base.cut=block5_conv3"] }), { renderer: "silent", checkLeaks: true });
  assert.equal(summary.status, "completed");
  const extract = summary.stages.find((s) => s.name === "extract")!;
  assert.ok(extract);
  const index = JSON.parse(readFileSync(join(root, "runs", ".cache", "extract", readdirOne(join(root, "runs", ".cache", "extract")), "features.json"), "utf8"));
  assert.deepEqual(index.spatial, [4, 4], "4x4 maps of block5_conv3 at 64 px");
  assert.equal(index.dim, 512);
  assert.ok(existsSync(join(summary.run_dir, "plots", "attention_maps.png")));
  // without fine-tuning, evaluate predicts from the cached maps through the attention head
  const headOnly = await execute(loadConfig(file, { overrides: ["base.cut=block5_conv3", "train.fine_tune=null"] }), { renderer: "silent", checkLeaks: true });
  assert.equal(headOnly.status, "completed");
  assert.deepEqual(headOnly.stages.filter((s) => !s.cached).map((s) => s.name), ["evaluate"]);
  const report = JSON.parse(readFileSync(join(headOnly.run_dir, "report.json"), "utf8")) as { source: string };
  assert.equal(report.source, "cached features");
  assert.equal(headOnly.metrics.test_accuracy, headOnly.metrics.head_test_accuracy, "the same head on the same maps");
  assert.ok(existsSync(join(headOnly.run_dir, "plots", "attention_maps.png")));
});

test("a graph-model base: extract, train-head and evaluate without leaking tensors", async (t) => {
  const root = tempDir(t);
  const data = tinyEmojiDataset(join(root, "data"));
  writeGraphModel(join(root, "hub"));
  const file = join(root, "p.yaml");
  writeFileSync(file, tinyPipeline(data, join(root, "runs"))
    .replace("model: mobilenet_v2", "model: hub")
    .replace("freeze:\n  at: block_16_expand\n", "")
    .replace("  fine_tune: { epochs: 1, batch_size: 8 }\n", ""));
  const summary = await execute(loadConfig(file), { renderer: "silent", checkLeaks: true });
  assert.equal(summary.status, "completed");
  assert.deepEqual(summary.stages.map((s) => s.name), ["dataset", "weights", "prepare", "extract", "audit", "train-head", "evaluate"]);
  assert.ok(existsSync(join(summary.run_dir, "model", "base", "model.json")));
});

function readdirOne(dir: string): string {
  const entries = readdirSync(dir).filter((e) => !e.startsWith("."));
  assert.equal(entries.length, 1, `one extract entry in ${dir}: ${entries.join(", ")}`);
  return entries[0]!;
}
