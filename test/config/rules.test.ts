import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { checkAgainstDataset, checkArchitecture, checkCut, checkExplainLayer, checkFreezePoint, loadConfig, RULES, validateFile } from "../../src/config";
import type { LoadedConfig } from "../../src/config/types";
import { checkHeadDepths } from "../../src/config/head-depths-rules";

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
  assert.match(checkAgainstDataset(loaded, ["cat"])[1]!.message, /has one class, 'cat' \(exclude_classes leaves out dgo\/\); a classifier needs at least 2/);
  assert.deepEqual(checkAgainstDataset(load(""), ["cat", "dog"]), []);
});

test("checkFreezePoint: names with did-you-mean, indices within range", () => {
  assert.deepEqual(summary(checkFreezePoint(load("freeze:\n  at: block_13_expnd\n"), LAYERS)), [
    "5:7 freeze.at 'block_13_expnd' is not a layer name, index, block or fraction of the base model (6 layers) | did you mean 'block_13_expand' or 'block_13_expand_BN'?",
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

test("checkExplainLayer: a layer name of the cut base, checked only when heat maps are on", () => {
  assert.deepEqual(checkExplainLayer(load(""), LAYERS), []);
  assert.deepEqual(checkExplainLayer(load("evaluate: {explain: {n: 4, layer: block_13_expand}}\n"), LAYERS), []);
  assert.deepEqual(checkExplainLayer(load("evaluate: {explain: {n: 0, layer: nope}}\n"), LAYERS), []);
  assert.deepEqual(summary(checkExplainLayer(load("evaluate:\n  explain: {n: 4, layer: block_13_expnd}\n"), LAYERS)), [
    "5:26 evaluate.explain.layer 'block_13_expnd' is not a layer of the base model (6 layers) | did you mean 'block_13_expand' or 'block_13_expand_BN'?",
  ]);
  assert.equal(checkExplainLayer(load("evaluate: {explain: {n: 4, layer: block_13}}\n"), LAYERS).length, 1, "a block is not a layer");
});

test("checkFreezePoint: blocks, fractions and block typos with the real names as hints", () => {
  assert.deepEqual(checkFreezePoint(load("freeze: {at: block_13}\n"), LAYERS), []);
  assert.deepEqual(checkFreezePoint(load("freeze: {at: 0.5}\n"), LAYERS), []);
  assert.deepEqual(summary(checkFreezePoint(load("freeze:\n  at: blok_16\n"), LAYERS)), [
    "5:7 freeze.at 'blok_16' is not a layer name, index, block or fraction of the base model (6 layers) | did you mean 'block_16' or 'block_13'?",
  ]);
});

test("pass 2: a number that is neither an index nor a fraction, gradual without fine-tuning, two forms of discriminative rates", () => {
  const msgs = (extra: string) => withYaml(`name: x\ndata: {dir: d}\n${extra}`, (f) => validateFile(f).problems.map((p) => `${p.location?.line}:${p.location?.col} ${p.message}`));
  assert.deepEqual(msgs("freeze: {at: 2.5}\n"), ["3:14 freeze.at 2.5 is neither a layer index (a whole number) nor a fraction of the depth (strictly between 0 and 1)"]);
  assert.deepEqual(msgs("freeze: {gradual: true}\n"), ["3:19 freeze.gradual is true, but there is no train.fine_tune phase to unfreeze in"]);
  assert.deepEqual(msgs("freeze: {at: 3}\ntrain:\n  fine_tune:\n    lr_decay: 0.8\n    lr_multipliers: [{from: 3, factor: 0.1}]\n"), [
    "6:15 train.fine_tune sets both lr_decay (0.8) and lr_multipliers; they are two ways to say the same thing",
  ]);
  assert.deepEqual(msgs("freeze: {at: 3}\ntrain:\n  fine_tune:\n    lr_multipliers: [{from: 1.5, factor: 0.1}]\n"), [
    "6:29 train.fine_tune.lr_multipliers.0.from 1.5 is neither a layer index (a whole number) nor a fraction of the depth (strictly between 0 and 1)",
  ]);
});

test("checkFreezePoint: lr_multipliers ranges must name layers, start at or below freeze.at, and not repeat", () => {
  const ft = (at: string, from: string[]) => load(`freeze: {at: ${at}}\ntrain:\n  fine_tune:\n    lr_multipliers:\n${from.map((f) => `      - {from: ${f}, factor: 0.5}\n`).join("")}`);
  assert.deepEqual(checkFreezePoint(ft("block_13_expand", ["block_13_expand", "block_16_project"]), LAYERS), []);
  assert.deepEqual(checkFreezePoint(ft("block_13", ["1", "block_16"]), LAYERS), []);
  assert.deepEqual(summary(checkFreezePoint(ft("block_13_expand", ["block_16_projct"]), LAYERS)), [
    "8:16 train.fine_tune.lr_multipliers.0.from 'block_16_projct' is not a layer name, index, block or fraction of the base model (6 layers) | did you mean 'block_16_project'?",
  ]);
  assert.deepEqual(summary(checkFreezePoint(ft("block_13_expand", ["block_16_project"]), LAYERS)), [
    "8:16 train.fine_tune.lr_multipliers.0.from starts at layer 4 (block_16_project), above freeze.at (layer 2, block_13_expand): the layers between would have no learning-rate factor | write from: \"block_13_expand\" for the lowest range",
  ]);
  assert.deepEqual(summary(checkFreezePoint(ft("2", ["2", "block_13"]), LAYERS)), [
    "9:16 train.fine_tune.lr_multipliers.1.from starts at layer 2 (block_13_expand), as train.fine_tune.lr_multipliers.0.from does | give each range its own first layer, or merge the two entries",
  ]);
});

test("checkArchitecture: explicit preprocessing must be the architecture's unless overridden; input size at least its minimum", () => {
  const inception = { name: "inception_v3", preprocessing: "tf" as const, minInput: 75 };
  assert.deepEqual(checkArchitecture(load(""), inception), []);
  assert.deepEqual(checkArchitecture(load("  preprocessing: tf\n"), inception), []);
  assert.deepEqual(checkArchitecture(load("  preprocessing: caffe\n  preprocessing_override: true\n"), inception), []);
  assert.deepEqual(summary(checkArchitecture(load("  preprocessing: caffe\nbase: {input_size: [64, 299]}\n"), inception)), [
    "4:18 data.preprocessing is caffe, but inception_v3's weights expect tf (pixels scaled to [-1, 1]); features would be computed on the wrong scale | write preprocessing: auto (or tf); if your weights really were trained with caffe, add preprocessing_override: true",
    "5:8 base.input_size [64, 299] is below inception_v3's minimum input of 75 x 75 pixels | write input_size: [75, 299] or larger",
  ]);
});

test("class options: class_weight names real classes, with did-you-mean and the known classes", () => {
  const loaded = load("train:\n  class_weight: { Normal: 1, Tuberculoss: 5 }\n");
  assert.deepEqual(summary(checkAgainstDataset(loaded, ["Normal", "Tuberculosis"])), [
    "5:30 train.class_weight names 'Tuberculoss', which is not a class of this task (classes: Normal, Tuberculosis) | did you mean 'Tuberculosis'?",
  ]);
  assert.deepEqual(checkAgainstDataset(load("train:\n  class_weight: balanced\n"), ["a", "b"]), []);
  // an excluded class is not a class of the task
  const excluded = load("  exclude_classes: [c]\ntrain:\n  class_weight: { c: 2 }\n");
  assert.match(checkAgainstDataset(excluded, ["a", "b", "c"])[0]!.message, /names 'c', which is not a class of this task \(classes: a, b\)/);
});

test("class options: positive and negative classes must name a class", () => {
  const loaded = load("evaluate:\n  positive_class: tuberculosis\n");
  assert.deepEqual(summary(checkAgainstDataset(loaded, ["Normal", "Tuberculosis"])), [
    "5:19 evaluate.positive_class is 'tuberculosis', which is not a class of this task (classes: Normal, Tuberculosis) | did you mean 'Tuberculosis'?",
  ]);
  assert.match(summary(checkAgainstDataset(load("evaluate:\n  negative_class: healthy\n"), ["Normal", "Tuberculosis"]))[0]!, /^5:19 evaluate.negative_class is 'healthy', which is not a class .* \| write negative_class: Tuberculosis$/);
  assert.deepEqual(checkAgainstDataset(load("evaluate:\n  positive_class: b\n  threshold: youden\n"), ["a", "b"]), []);
});

test("class options: binary options on a task without exactly two classes, each located", () => {
  const loaded = load("evaluate:\n  positive_class: a\n  threshold: { target_sensitivity: 0.9 }\n");
  assert.deepEqual(summary(checkAgainstDataset(loaded, ["a", "b", "c"])), [
    "5:19 evaluate.positive_class is 'a', but the task has 3 classes (a, b, c); it applies only to a two-class task | remove positive_class (a multi-class task is scored per class with argmax), or keep two classes with data.exclude_classes",
    "6:3 evaluate.threshold is target_sensitivity 0.9, but the task has 3 classes (a, b, c); it applies only to a two-class task | remove threshold (a multi-class task is scored per class with argmax), or keep two classes with data.exclude_classes",
  ]);
  assert.match(checkAgainstDataset(load("evaluate:\n  negative_class: a\n  threshold: 0.3\n"), ["a", "b", "c"])[1]!.message, /^evaluate.threshold is 0.3, but the task has 3 classes/);
  assert.deepEqual(checkAgainstDataset(load("evaluate:\n  threshold: 0.5\n"), ["a", "b", "c"]), [], "the default threshold is argmax's");
});

test("pass 2: a threshold needs a positive (or negative) class", () => {
  const text = "name: x\ndata: {dir: d}\nevaluate:\n  threshold: youden\n";
  const problems = withYaml(text, (f) => validateFile(f).problems);
  assert.deepEqual(problems.map((p) => `${p.location?.line}:${p.location?.col} ${p.message} | ${p.hint}`), ["4:14 evaluate.threshold is set (youden), but neither evaluate.positive_class nor negative_class names the class whose probability it thresholds | add evaluate.positive_class: <the class a positive result means>, or remove threshold"]);
  assert.deepEqual(withYaml(text + "  negative_class: normal\n", (f) => validateFile(f).problems), []);
});

test("pass 2: positive and negative class the same", () => {
  const text = "name: x\ndata: {dir: d}\nevaluate:\n  positive_class: TB\n  negative_class: TB\n";
  const problems = withYaml(text, (f) => validateFile(f).problems);
  assert.deepEqual(problems.map((p) => `${p.location?.line}:${p.location?.col} ${p.message}`), ["5:19 evaluate.positive_class and evaluate.negative_class are both 'TB'"]);
});

test("checkHeadDepths: layers of the cut base with did-you-mean, blocks found, not with fine-tuning or an attention head", () => {
  const names = ["input_1", "Conv1", "block_1_expand", "block_1_project_BN", "block_2_expand", "block_2_add", "out_relu"];
  const typo = load("base: {model: mobilenet_v2}\nhead:\n  depths: [block_1_project_BN, block_2_ad]\ntrain:\n  fine_tune: null\n");
  assert.deepEqual(summary(checkHeadDepths(typo, names)), ["6:32 head.depths names 'block_2_ad', which is not a layer of mobilenet_v2 at or below the cut 'out_relu' | did you mean 'block_2_add'?"]);
  assert.deepEqual(checkHeadDepths(load("head: {depths: blocks}\ntrain: {fine_tune: null}\n"), names), []);
  assert.match(checkHeadDepths(load("head: {depths: blocks}\ntrain: {fine_tune: null}\n"), ["input_1", "conv", "out"])[0]!.message, /head.depths: blocks finds no named block .* below the cut 'out'/);
  const tuned = checkHeadDepths(load("head: {depths: blocks}\nfreeze: {at: block_2}\ntrain:\n  fine_tune: {epochs: 2}\n"), names);
  assert.equal(tuned.length, 1);
  assert.match(tuned[0]!.message, /head.depths and train.fine_tune do not go together/);
  assert.match(tuned[0]!.hint!, /remove train.fine_tune/);
  assert.match(checkHeadDepths(load("base: {model: attention_vgg16, weights: imagenet}\nhead: {depths: blocks}\ntrain: {fine_tune: null}\n"), names)[0]!.message, /does not apply to attention_vgg16/);
  assert.deepEqual(checkHeadDepths(load(""), names), [], "left out: the cut alone");
});
