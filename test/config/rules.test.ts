import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { checkAgainstDataset, checkCut, checkFreezePoint, loadConfig, RULES, validateFile } from "../../src/config";
import type { LoadedConfig } from "../../src/config/types";

function withYaml<T>(text: string, fn: (file: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), "tlrun-rules-"));
  try {
    writeFileSync(join(dir, "p.yaml"), text);
    return fn(join(dir, "p.yaml"));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const load = (extra: string): LoadedConfig => withYaml(`name: x\ndata:\n  dir: d\n${extra}`, (f) => loadConfig(f));
const summary = (ps: ReturnType<typeof checkCut>) => ps.map((p) => `${p.location?.line}:${p.location?.col} ${p.message} | ${p.hint}`);
const LAYERS = ["input_1", "Conv1", "block_13_expand", "block_13_expand_BN", "block_16_project", "out_relu"];

test("rules have unique names", () => {
  assert.equal(new Set(RULES.map((r) => r.name)).size, RULES.length);
});

test("early stopping and evaluation need their split", () => {
  const text = "name: x\ndata: {dir: d, split: {train: 0.9, val: 0, test: 0.1}}\nevaluate: {split: val}\ntrain:\n  head: {early_stopping: {enabled: true}}\n";
  const msgs = withYaml(text, (f) => validateFile(f).problems.map((p) => p.message));
  assert.deepEqual(msgs, ["evaluate.split is val, but data.split.val is 0", "train.head.early_stopping monitors val_loss, but data.split.val is 0 so there is no validation split"]);
});

test("checkAgainstDataset: too few classes, unknown exclusions, sigmoid needs two classes", () => {
  const loaded = load("  exclude_classes: [dgo]\nhead:\n  output: sigmoid\n");
  assert.deepEqual(summary(checkAgainstDataset(loaded, ["cat", "dog", "bird"])), [
    "4:21 data.exclude_classes lists 'dgo', which is not a class folder in d | did you mean 'dog'?",
    "6:11 head.output sigmoid needs exactly 2 classes, found 3 | write output: softmax",
  ]);
  assert.match(checkAgainstDataset(loaded, ["cat"])[1]!.message, /1 class\(es\) after exclude_classes \(cat\); a classifier needs at least 2/);
  assert.deepEqual(checkAgainstDataset(load(""), ["cat", "dog"]), []);
});

test("checkFreezePoint: names with did-you-mean, indices within range", () => {
  assert.deepEqual(summary(checkFreezePoint(load("freeze:\n  at: block_13_expnd\n"), LAYERS)), [
    "5:7 freeze.at 'block_13_expnd' is not a layer of the base model (6 layers) | did you mean 'block_13_expand' or 'block_13_expand_BN'?",
  ]);
  assert.deepEqual(summary(checkFreezePoint(load("freeze: {at: 6}\n"), LAYERS)), [
    "4:14 freeze.at 6 is out of range: the base model has 6 layers | write an index from 0 to 5, or a layer name such as 'block_16_project'",
  ]);
  assert.deepEqual(checkFreezePoint(load("freeze: {at: 5}\n"), LAYERS), []);
  assert.deepEqual(checkFreezePoint(load("freeze: {at: block_13_expand}\n"), LAYERS), []);
  assert.deepEqual(checkFreezePoint(load(""), LAYERS), []);
});

test("checkCut: only checked when set", () => {
  assert.deepEqual(checkCut(load(""), LAYERS), []);
  assert.deepEqual(checkCut(load("base: {cut: out_relu}\n"), LAYERS), []);
  const [p] = checkCut(load("base: {cut: out_relu6}\n"), LAYERS);
  assert.equal(p?.hint, "did you mean 'out_relu'?");
  assert.equal(p?.location?.line, 4);
});
