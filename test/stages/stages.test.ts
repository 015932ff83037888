import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadConfig } from "../../src/config";
import { execute } from "../../src/executor/execute";
import * as tf from "@tensorflow/tfjs";
import { buildBase } from "../../src/models/build";
import { loadModel } from "../../src/models/io";
import { loadArtifacts } from "../../src/models/source";
import { isSource, tempDir, tinyEmojiDataset, tinyPipeline } from "../helpers";

/**
 * Every stage on a tiny real dataset (24 google emoji, 3 classes, 32 px), with the leak check
 * on: each stage must leave tf.memory().numTensors where it found it.
 */
test("all six stages run on tiny real data without leaking tensors", async (t) => {
  const root = tempDir(t);
  const data = tinyEmojiDataset(join(root, "data"));
  const file = join(root, "p.yaml");
  writeFileSync(file, tinyPipeline(data, join(root, "runs")));
  const summary = await execute(loadConfig(file), { renderer: "silent", checkLeaks: true });
  assert.equal(summary.status, "completed");
  assert.deepEqual(summary.stages.map((s) => s.name), ["dataset", "weights", "prepare", "extract", "audit", "train-head", "unfreeze", "fine-tune", "evaluate"]);
  assert.ok(summary.stages.filter((s) => !isSource(s.name)).every((s) => !s.cached));
  assert.equal(summary.data!.train! as number + (summary.data!.val as number) + (summary.data!.test as number), 24);
  for (const k of ["test_accuracy", "test_macro_f1", "head_test_accuracy"]) assert.equal(typeof summary.metrics[k], "number", k);
  const run = summary.run_dir;
  for (const f of ["config.resolved.yaml", "summary.json", "metrics.jsonl", "report.json", "manifest.json", "model/model.json"])
    assert.ok(existsSync(join(run, f)), f);
  const epochs = readFileSync(join(run, "metrics.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l)).filter((r) => r.type === "epoch");
  assert.deepEqual(epochs.map((e) => e.global_epoch), [1, 2, 3]);
  assert.deepEqual(epochs.map((e) => e.phase), ["head", "head", "fine_tune"]);
  const report = JSON.parse(readFileSync(join(run, "report.json"), "utf8"));
  assert.equal(report.confusion.length, 3);
  const model = await loadModel(join(run, "model"));
  assert.deepEqual(model.outputs[0]!.shape, [null, 3]);
  model.dispose();
});

test("fine-tuning on fixed augmented views and without augmentation leaks nothing and trains", async (t) => {
  const root = tempDir(t);
  const data = tinyEmojiDataset(join(root, "data"));
  const file = join(root, "p.yaml");
  writeFileSync(file, tinyPipeline(data, join(root, "runs")));
  for (const overrides of [["augment.fine_tune_views=1", "train.fine_tune.epochs=3"], ["augment.rotation=0", "augment.horizontal_flip=false"]]) {
    const summary = await execute(loadConfig(file, { overrides }), { renderer: "silent", checkLeaks: true });
    assert.equal(summary.status, "completed", overrides.join(" "));
    const epochs = readFileSync(join(summary.run_dir, "metrics.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
    assert.ok(epochs.some((e) => e.phase === "fine_tune" && Number.isFinite(e.loss)), overrides.join(" "));
  }
});

test("fine-tune's frozen bottom keeps its exported graph: a rerun with another head takes it from the graph cache", async (t) => {
  const root = tempDir(t);
  const saved = process.env.TLRUN_CACHE;
  process.env.TLRUN_CACHE = join(root, "cache"); // a graph cache of this test's own, empty at the start
  t.after(() => (saved === undefined ? delete process.env.TLRUN_CACHE : (process.env.TLRUN_CACHE = saved)));
  const data = tinyEmojiDataset(join(root, "data"));
  const file = join(root, "p.yaml");
  writeFileSync(file, tinyPipeline(data, join(root, "runs")));
  const frozenForward = async (overrides: string[]): Promise<string> => {
    const infos = new Map<string, Record<string, unknown>>();
    const summary = await execute(loadConfig(file, { overrides }), { renderer: "silent", checkLeaks: true, observers: [{ onStageEnd: (s) => void infos.set(s.name, s.info) }] });
    assert.equal(summary.status, "completed");
    return String(infos.get("fine-tune")!.frozen_forward);
  };
  const first = await frozenForward([]);
  assert.match(first, /^onnxruntime /);
  assert.doesNotMatch(first, /from cache/);
  assert.match(await frozenForward(["head.layers.0.dropout=0.3"]), /^onnxruntime .*graph from cache/);
  // another split point is another graph
  assert.doesNotMatch(await frozenForward(["freeze.at=block_15_expand"]), /from cache/);
});

test("fine-tune with gradual unfreezing and a factor-0 range: that range keeps its pretrained weights, the rest trains", async (t) => {
  const root = tempDir(t);
  const data = tinyEmojiDataset(join(root, "data"));
  const file = join(root, "p.yaml");
  writeFileSync(file, tinyPipeline(data, join(root, "runs")));
  const overrides = ["freeze.gradual=true", "train.fine_tune.epochs=2", "train.fine_tune.learning_rate=0.01", "train.fine_tune.lr_multipliers=[{from: block_16, factor: 0}, {from: Conv_1, factor: 0.5}]"];
  const infos = new Map<string, Record<string, unknown>>();
  const summary = await execute(loadConfig(file, { overrides }), { renderer: "silent", checkLeaks: true, observers: [{ onStageEnd: (s) => void infos.set(s.name, s.info) }] });
  assert.equal(summary.status, "completed");
  assert.deepEqual(infos.get("fine-tune")!.unfreeze_schedule, [
    { block: "block_16", from_epoch: 2, lr_factor: 0 },
    { block: "top", from_epoch: 1, lr_factor: 0.5 },
  ]);
  const tuned = await loadModel(join(summary.run_dir, "model"));
  const base = await buildBase(loadArtifacts("mobilenet_v2", root), "out_relu", [32, 32]);
  const same = (layer: string) => tuned.getLayer(layer).getWeights().every((w, i) => tf.tidy(() => tf.equal(w, base.getLayer(layer).getWeights()[i]!).all().dataSync()[0] === 1));
  assert.ok(same("block_16_expand") && same("block_16_depthwise") && same("block_16_project"), "the factor-0 block changed");
  assert.ok(!same("Conv_1"), "the top block did not train");
  assert.ok(same("block_15_expand"), "a layer below freeze.at changed");
  tuned.dispose();
  base.dispose();
});
