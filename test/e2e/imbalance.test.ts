import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { tempDir, tinyEmojiDataset, tinyPipeline } from "../helpers";

const BIN = join(resolve(__dirname, "../../.."), "bin/tlrun.js");

function tlrun(args: string[], cwd: string) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: "utf8", env: { ...process.env, CI: "true" } });
  return { code: r.status, stderr: r.stderr, json: () => JSON.parse(r.stdout) };
}

test("class_weight and sampling on a real run: recorded in summary.json; changing them re-runs the training stages only; without them an imbalanced run warns", async (t) => {
  const root = tempDir(t);
  tinyEmojiDataset(join(root, "a"), 24, ["smileys-emotion"]);
  tinyEmojiDataset(join(root, "b"), 6, ["flags"]);
  mkdirSync(join(root, "data"));
  renameSync(join(root, "a", "smileys-emotion"), join(root, "data", "normal"));
  renameSync(join(root, "b", "flags"), join(root, "data", "tb"));
  const file = join(root, "p.yaml");
  writeFileSync(file, tinyPipeline(join(root, "data"), join(root, "runs")).replace("data:\n", "data:\n  sampling: oversample\n").replace("train:\n", "train:\n  class_weight: balanced\n"));
  const first = tlrun(["run", file, "--json"], root);
  assert.equal(first.code, 0, first.stderr);
  const summary = JSON.parse(readFileSync(join(first.json().run_dir, "summary.json"), "utf8"));
  // train 12 normal, 2 tb (split 0.5/0.25/0.25 per class): oversampled to 12 each; balanced weights 14/(2*12), 14/(2*2)
  const expected = { sampling: "oversample", train_counts: { normal: 12, tb: 2 }, drawn_per_epoch: { normal: 12, tb: 12 }, class_weight: { normal: 0.583333, tb: 3.5 } };
  assert.deepEqual(summary.class_balance, { "train-head": expected, "fine-tune": expected });
  assert.deepEqual(summary.warnings.filter((w: string) => /imbalanced/.test(w)), []);
  const second = tlrun(["run", file, "--set", "train.class_weight=null", "--set", "data.sampling=none", "--json"], root);
  assert.equal(second.code, 0, second.stderr);
  assert.ok(second.json().warnings.includes("the train split is imbalanced 6.0:1 (normal 12, tb 2) with no weighting; set train.class_weight: balanced (or data.sampling: oversample)"), JSON.stringify(second.json().warnings));
  assert.equal(JSON.parse(readFileSync(join(second.json().run_dir, "summary.json"), "utf8")).class_balance["train-head"].class_weight, null);
  const cached = Object.fromEntries(second.json().stages.map((s: { name: string; cached: boolean }) => [s.name, s.cached]));
  assert.deepEqual(cached, { dataset: true, weights: true, prepare: true, extract: true, audit: true, "train-head": false, unfreeze: false, "fine-tune": false, evaluate: false });
  const third = tlrun(["run", file, "--set", "train.class_weight=null", "--set", "data.sampling=none", "--json"], root);
  assert.ok(third.json().stages.every((s: { cached: boolean }) => s.cached), "all cached");
  assert.equal(third.json().warnings.filter((w: string) => /imbalanced/.test(w)).length, 1, "a cached train-head still warns, once");
});
