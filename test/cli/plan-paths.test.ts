/**
 * What `tlrun plan` says about where things go: the runs folder, resolved from the working
 * directory (not the pipeline file's folder), as the schema and README say; and fine-tune's
 * scratch files, with their size. (That the estimate is what fine-tune writes: test/e2e/scratch.test.ts.)
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { tempDir, tinyEmojiDataset, tinyPipeline } from "../helpers";

const ROOT = resolve(__dirname, "../../..");
const BIN = join(ROOT, "bin/tlrun.js");

test("runtime.runs_dir is relative to the working directory: the schema says so and tlrun plan prints the folder", (t) => {
  const schema = JSON.parse(readFileSync(join(ROOT, "schemas/pipeline.schema.json"), "utf8"));
  const described: string = schema.properties.runtime.properties.runs_dir.description;
  assert.match(described, /relative to the working directory/i);
  assert.doesNotMatch(described, /relative to the YAML file/i);

  const root = tempDir(t);
  const data = tinyEmojiDataset(join(root, "data"), 4, ["flags", "food-drink"]);
  mkdirSync(join(root, "pipes"));
  const file = join(root, "pipes", "p.yaml");
  writeFileSync(file, tinyPipeline(data, "myruns"));
  const work = join(root, "work");
  mkdirSync(work);
  const plan = (...args: string[]) => spawnSync(process.execPath, [BIN, "plan", file, ...args], { cwd: work, encoding: "utf8" });
  const text = plan();
  assert.equal(text.status, 0, text.stderr);
  assert.ok(text.stdout.includes(`runs: ${join(work, "myruns")}/ (runtime.runs_dir 'myruns', relative to the working directory)\n`), text.stdout);
  const json = plan("--json");
  assert.equal(json.status, 0, json.stderr);
  assert.equal(JSON.parse(json.stdout).runs_dir, join(work, "myruns"));
});

test("tlrun plan shows fine-tune's scratch folder and its size: images x views x the freeze point's activations x 4 bytes", (t) => {
  const root = tempDir(t);
  const data = tinyEmojiDataset(join(root, "data"), 4, ["flags", "food-drink"]);
  const file = join(root, "p.yaml");
  // MobileNetV2 at 32 px: block_16_expand reads block_15_add, 1 x 1 x 160 floats, 640 bytes an image
  writeFileSync(file, tinyPipeline(data, "runs").replace("feature_copies: 1", "feature_copies: 1\n  fine_tune_views: 2"));
  const plan = (...args: string[]) => {
    const r = spawnSync(process.execPath, [BIN, "plan", file, ...args], { cwd: root, encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout;
  };
  const three = ["--set", "train.fine_tune.epochs=3"]; // three epochs read all three views
  const json = JSON.parse(plan("--json", ...three));
  const total = (split: string): number => Object.values(json.class_counts[split] as Record<string, number>).reduce((a, b) => a + b, 0);
  const [train, val] = [total("train"), total("val")];
  assert.deepEqual(json.scratch, { dir: join(root, "runs", ".scratch"), bytes: 640 * (val + 3 * train), bytes_per_image: 640, train_views: 3, images: { train, val } });
  assert.match(plan(...three), new RegExp(`^scratch: fine-tune writes about [\\d.]+ kB of frozen activations to runs/\\.scratch/ \\(runtime\\.scratch_dir; removed when the stage ends\\): ${train} train images x 3 views \\+ ${val} val, 640 B each$`, "m"));
  // one epoch reads view 0 only, so the augmented views are neither stored nor counted
  assert.deepEqual(JSON.parse(plan("--json", "--set", "train.fine_tune.epochs=1")).scratch, { dir: join(root, "runs", ".scratch"), bytes: 640 * (val + train), bytes_per_image: 640, train_views: 1, images: { train, val } });
  // augmented afresh every epoch: only the validation images are stored
  assert.equal(JSON.parse(plan("--json", "--set", "augment.fine_tune_views=0")).scratch.bytes, 640 * val);
  assert.equal(JSON.parse(plan("--json", "--set", "runtime.scratch_dir=big/disk")).scratch.dir, join(root, "big", "disk"));
  assert.equal(JSON.parse(plan("--json", "--set", "train.fine_tune=null")).scratch, undefined, "no fine-tune, no scratch");
});
