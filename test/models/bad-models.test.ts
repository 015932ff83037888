/**
 * Bad tfjs model folders: weights of another architecture or input size name the first
 * mismatched layer and both shapes; a truncated shard names the file; a run on such a model
 * fails with the message and no stack trace.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync, truncateSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { TlrunError } from "../../src/errors";
import { buildBase } from "../../src/models/build";
import { saveModel } from "../../src/models/io";
import { loadArtifacts } from "../../src/models/source";
import { tempDir, tinyEmojiDataset, tinyPipeline } from "../helpers";

const ROOT = resolve(__dirname, "../../..");
const isError = (re: RegExp) => (e: Error) => e instanceof TlrunError && re.test(e.message);

/** conv (4 filters) -> flatten -> dense, saved at 32x32: the dense kernel's shape depends on the input size. */
async function flattenDenseModel(dir: string, filters = 4): Promise<void> {
  const input = tf.input({ shape: [32, 32, 3], name: "input_1" });
  const c = tf.layers.conv2d({ filters, kernelSize: 3, strides: 2, padding: "same", activation: "relu", name: "c1" }).apply(input);
  const f = tf.layers.flatten({ name: "flatten" }).apply(c);
  const d = tf.layers.dense({ units: 6, activation: "relu", name: "fc1" }).apply(f) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: d });
  await saveModel(model, dir);
  model.dispose();
}

test("weights of another architecture: the first mismatched layer and both shapes", async (t) => {
  const dir = tempDir(t);
  await flattenDenseModel(join(dir, "a"), 4);
  await flattenDenseModel(join(dir, "b"), 8);
  // a's topology with b's weights (same layer names, 8 filters instead of 4)
  const a = JSON.parse(readFileSync(join(dir, "a", "model.json"), "utf8"));
  const b = JSON.parse(readFileSync(join(dir, "b", "model.json"), "utf8"));
  writeFileSync(join(dir, "b", "model.json"), JSON.stringify({ ...b, modelTopology: a.modelTopology }));
  const art = loadArtifacts(join(dir, "b"), dir);
  await assert.rejects(buildBase(art, "fc1", [32, 32]), isError(/b\/model\.json: layer 'c1' weight 'c1\/kernel' has shape \[3, 3, 3, 8\] in the weights, the model at input \[32, 32\] expects \[3, 3, 3, 4\]; are the weights from a different architecture/));
});

test("weights trained at another input size: the dense layer after flatten, with both shapes", async (t) => {
  const dir = tempDir(t);
  await flattenDenseModel(join(dir, "m"));
  const art = loadArtifacts(join(dir, "m"), dir);
  const ok = await buildBase(art, "fc1", [32, 32]);
  ok.dispose();
  await assert.rejects(buildBase(art, "fc1", [64, 64]), isError(/layer 'fc1' weight 'fc1\/kernel' has shape \[1024, 6\] in the weights, the model at input \[64, 64\] expects \[4096, 6\].*set base\.input_size to it, or cut below the layer/));
  const cut = await buildBase(art, "c1", [64, 64]); // below the dense layer any size works
  cut.dispose();
});

test("a truncated weight shard names the file and both sizes", async (t) => {
  const dir = tempDir(t);
  await flattenDenseModel(join(dir, "m"));
  truncateSync(join(dir, "m", "weights.bin"), 100);
  assert.throws(() => loadArtifacts(join(dir, "m"), dir), isError(/m\/model\.json: the weight shards hold 100 bytes but the weightsManifest describes \d+; a shard is truncated/));
});

test("a run on weights of another input size fails with the message, exit 1, no stack trace", { timeout: 5 * 60_000 }, async (t) => {
  const root = tempDir(t);
  await flattenDenseModel(join(root, "m"));
  const data = tinyEmojiDataset(join(root, "data"), 2);
  const yaml = tinyPipeline(data, join(root, "runs"))
    .replace("model: mobilenet_v2", "model: m\n  cut: fc1")
    .replace("input_size: [32, 32]", "input_size: [48, 48]")
    .replace("at: block_16_expand", "at: fc1");
  writeFileSync(join(root, "p.yaml"), yaml);
  const r = spawnSync(process.execPath, [join(ROOT, "bin/tlrun.js"), join(root, "p.yaml")], { cwd: root, encoding: "utf8", env: { ...process.env, CI: "true" } });
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /layer 'fc1' weight 'fc1\/kernel' has shape \[1024, 6\] in the weights, the model at input \[48, 48\] expects \[2304, 6\]/);
  assert.doesNotMatch(r.stderr, /internal error|    at /);
});
