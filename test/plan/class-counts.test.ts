import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { buildManifest } from "../../src/data/manifest";
import { scanDataset } from "../../src/data/scan";
import { splitCounts } from "../../src/data/split-counts";
import { imbalanceWarning } from "../../src/plan/class-counts";
import { defaultConfig } from "./fixtures";
import { tempDir, tinyEmojiDataset } from "../helpers";

const BIN = join(resolve(__dirname, "../../.."), "bin/tlrun.js");

/** Real emoji as class folders named like a screening set: `normal` smileys, `tb` flags. */
function screeningFolder(root: string, normal: number, tb: number): string {
  tinyEmojiDataset(join(root, "a"), normal, ["smileys-emotion"]);
  tinyEmojiDataset(join(root, "b"), tb, ["flags"]);
  const dir = join(root, "data");
  mkdirSync(dir);
  renameSync(join(root, "a", "smileys-emotion"), join(dir, "Normal"));
  renameSync(join(root, "b", "flags"), join(dir, "Tuberculosis"));
  return dir;
}

test("the plan's class counts are the prepare stage's, from the file names alone", async (t) => {
  const dir = screeningFolder(tempDir(t), 30, 7);
  const split = { train: 0.6, val: 0.2, test: 0.2, stratify: true };
  const manifest = await buildManifest(scanDataset(dir, { excludeClasses: [] }), { seed: 3, split, maxPixels: 1e8, onBadImage: "skip" });
  const counts = splitCounts(scanDataset(dir, { excludeClasses: [] }), { seed: 3, split });
  assert.deepEqual(counts.counts, manifest.counts);
  assert.deepEqual(counts.classes, manifest.classes);
  assert.deepEqual(counts.counts.train, { Normal: 18, Tuberculosis: 5 });
});

test("the imbalance warning: above 3:1 in the train split, only when nothing corrects for it", () => {
  const counts = { classes: ["a", "b"], counts: { train: { a: 31, b: 10 }, val: { a: 1, b: 1 }, test: { a: 1, b: 1 } } };
  const c = defaultConfig();
  assert.equal(imbalanceWarning(counts, c), "the train split is imbalanced 3.1:1 (a 31, b 10) with no weighting; set train.class_weight: balanced (or data.sampling: oversample)");
  assert.equal(imbalanceWarning({ ...counts, counts: { ...counts.counts, train: { a: 30, b: 10 } } }, c), undefined, "3:1 exactly is not above");
  c.train.class_weight = "balanced";
  assert.equal(imbalanceWarning(counts, c), undefined);
  const d = defaultConfig();
  d.data.sampling = "undersample";
  assert.equal(imbalanceWarning(counts, d), undefined);
});

test("tlrun plan prints the class counts per split and the warning; --json has them; a built-in dataset not built yet says when they come", (t) => {
  const root = tempDir(t);
  screeningFolder(root, 40, 8);
  const file = join(root, "p.yaml");
  writeFileSync(file, "name: tb\ndata: { dir: data }\ntrain: { head: { epochs: 1 } }\n");
  const run = (...args: string[]) => spawnSync(process.execPath, [BIN, "plan", file, ...args], { cwd: root, encoding: "utf8" });
  const text = run();
  assert.equal(text.status, 0, text.stderr);
  assert.match(text.stdout, /class\s+train\s+val\s+test\n\s+Normal\s+28\s+6\s+6\n\s+Tuberculosis\s+6\s+1\s+1\n\s+total\s+34\s+7\s+7\n/);
  assert.match(text.stdout, /warning: the train split is imbalanced 4\.7:1 \(Normal 28, Tuberculosis 6\) with no weighting; set train\.class_weight: balanced/);
  const json = JSON.parse(run("--json").stdout);
  assert.deepEqual(json.class_counts.train, { Normal: 28, Tuberculosis: 6 });
  assert.equal(json.warnings.length, 1);
  const weighted = run("--set", "train.class_weight=balanced");
  assert.doesNotMatch(weighted.stdout, /warning/);
  const twice = run("--set", "train.class_weight=balanced", "--set", "data.sampling=oversample");
  assert.match(twice.stdout, /\n  warning: train\.class_weight: balanced and data\.sampling: oversample both balance the classes; .* keep one\n/);
  writeFileSync(file, "name: tb\ndata: { dir: emoji, builtin: emoji-google }\n");
  const later = run();
  assert.equal(later.status, 0, later.stderr);
  assert.match(later.stdout, /\n  class counts come after the dataset stage builds emoji-google into /);
  assert.equal(JSON.parse(run("--json").stdout).class_counts, null);
});

test("tlrun plan stops on a class option that names no class, located, exit 2", (t) => {
  const root = tempDir(t);
  screeningFolder(root, 4, 4);
  const file = join(root, "p.yaml");
  writeFileSync(file, "name: tb\ndata: { dir: data }\nevaluate:\n  positive_class: tuberculosis\n");
  const r = spawnSync(process.execPath, [BIN, "plan", file], { cwd: root, encoding: "utf8" });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /p\.yaml:4:19: error: evaluate\.positive_class is 'tuberculosis', which is not a class of this task \(classes: Normal, Tuberculosis\)\n\s+hint: did you mean 'Tuberculosis'\?/);
});
