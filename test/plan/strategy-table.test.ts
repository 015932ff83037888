import { test } from "node:test";
import assert from "node:assert/strict";
import { chooseStrategy, STRATEGY_DEFAULTS, strategySettings, type DepthScore } from "../../src/plan/strategy-table";
import { applyStrategy, describeChoice } from "../../src/plan/strategy-apply";
import { defaultConfig } from "./fixtures";

const depths = (...accs: number[]): DepthScore[] => {
  const names: Array<[string, string]> = [["block_6_project", "block_6"], ["block_10_project", "block_10"], ["block_13_project", "block_13"], ["out_relu", "top"]];
  return accs.map((accuracy, i) => ({ layer: names[i]![0], block: names[i]![1], accuracy }));
};
const t = STRATEGY_DEFAULTS;

test("small and similar: a head on the top features and every block below, no fine-tune (a written one: short, annealed, of the top block)", () => {
  const input = { trainImages: 1330, classes: 9, depths: depths(0.4, 0.48, 0.55, 0.62), topBlock: "block_16" };
  const c = chooseStrategy(input, t);
  assert.equal(c.size, "small");
  assert.equal(c.similarity, "similar");
  assert.equal(c.cut, "out_relu");
  assert.equal(c.headDepths, "blocks");
  assert.deepEqual(c.fineTune, { run: false, from: "block_16", epochs: 4, learningRate: 1e-4, anneal: true });
  assert.equal(c.bestEarlier.layer, "block_13_project");
  // a base that names no blocks: the block of the depth below the top
  const { topBlock: _, ...unnamed } = input;
  assert.equal(chooseStrategy(unnamed, t).fineTune.from, "block_13");
});

test("tiny and similar: below min_per_class_to_fine_tune, the head alone", () => {
  const c = chooseStrategy({ trainImages: 9 * 19, classes: 9, depths: depths(0.4, 0.48, 0.55, 0.62), topBlock: "block_16" }, t);
  assert.deepEqual([c.size, c.similarity, c.cut, c.fineTune.run, c.headDepths], ["tiny", "similar", "out_relu", false, undefined]);
  assert.match(c.rule, /fewer than 20 images a class/);
  const tiny = chooseStrategy({ trainImages: 9 * 19, classes: 9, depths: depths(0.7, 0.48, 0.55, 0.5) }, t);
  assert.deepEqual([tiny.similarity, tiny.cut, tiny.fineTune.run], ["different", "block_6_project", false]);
});

test("small and different: a head on the best earlier depth and every block below it", () => {
  const c = chooseStrategy({ trainImages: 1330, classes: 9, depths: depths(0.5, 0.7, 0.6, 0.55) }, t);
  assert.equal(c.similarity, "different");
  assert.equal(c.cut, "block_10_project");
  assert.equal(c.fineTune.run, false);
  assert.equal(c.headDepths, "blocks");
  assert.match(c.rule, /a head on block_10_project that also reads every block below it/);
});

test("large and similar: fine-tune from the block below the top, briefly", () => {
  const c = chooseStrategy({ trainImages: 9000, classes: 9, depths: depths(0.4, 0.48, 0.55, 0.62) }, t);
  assert.equal(c.size, "large");
  assert.deepEqual([c.cut, c.fineTune.run, c.fineTune.from, c.fineTune.epochs, c.fineTune.learningRate, c.fineTune.anneal], ["out_relu", true, "block_13", 5, 1e-4, false]);
});

test("large and different: fine-tune from the best earlier block, longer", () => {
  const c = chooseStrategy({ trainImages: 9000, classes: 9, depths: depths(0.72, 0.6, 0.6, 0.5) }, t);
  assert.deepEqual([c.cut, c.fineTune.run, c.fineTune.from, c.fineTune.epochs], ["out_relu", true, "block_6", 10]);
});

test("the thresholds decide at their edges: tolerance and size", () => {
  const at = (top: number, tol: number) => chooseStrategy({ trainImages: 900, classes: 9, depths: depths(0.5, 0.6, 0.6, top) }, { ...t, similar_tolerance: tol }).similarity;
  assert.equal(at(0.58, 0.02), "similar");
  assert.equal(at(0.57, 0.02), "different");
  assert.equal(at(0.57, 0.05), "similar");
  const size = (n: number) => chooseStrategy({ trainImages: n, classes: 2, depths: depths(0.5, 0.6) }, { ...t, large_per_class: 100, min_per_class_to_fine_tune: 10 }).size;
  assert.equal(size(19), "tiny");
  assert.equal(size(20), "small");
  assert.equal(size(199), "small");
  assert.equal(size(200), "large");
  assert.throws(() => chooseStrategy({ trainImages: 10, classes: 2, depths: depths(0.5) }, t), /two probed depths/);
});

test("strategy settings: the string forms and a block with some thresholds", () => {
  assert.equal(strategySettings({ strategy: "explicit" }).mode, "explicit");
  assert.equal(strategySettings({ strategy: "auto" }).mode, "auto");
  const s = strategySettings({ strategy: { large_per_class: 50 } });
  assert.deepEqual([s.mode, s.large_per_class, s.similar_tolerance], ["auto", 50, 0.02]);
});

test("applying a choice: keys written in the file win, the rest follow the choice", () => {
  const large = chooseStrategy({ trainImages: 9000, classes: 9, depths: depths(0.4, 0.48, 0.55, 0.62) }, t);
  const base = defaultConfig();
  base.train.fine_tune = null;
  base.freeze.at = "";
  const none = applyStrategy(base, large, () => false);
  assert.equal(none.config.base.cut, "out_relu");
  assert.equal(none.config.freeze.at, "block_13");
  assert.deepEqual([none.config.train.fine_tune?.epochs, none.config.train.fine_tune?.learning_rate, none.config.train.fine_tune?.optimizer], [5, 1e-4, "adam"]);
  assert.equal(none.config.train.fine_tune?.schedule.type, "constant", "the large cells keep the schema's constant rate");
  assert.deepEqual(none.kept, []);
  assert.equal(base.train.fine_tune, null, "the input config is not changed");

  const written = new Set(["base.cut", "train.fine_tune"]);
  const cut = applyStrategy({ ...base, base: { ...base.base, cut: "block_16_project" } }, large, (p) => written.has(p));
  assert.equal(cut.config.base.cut, "block_16_project");
  assert.equal(cut.config.train.fine_tune, null, "an explicit fine_tune: null keeps fine-tuning off");
  assert.deepEqual(cut.kept, ["base.cut", "train.fine_tune"]);

  const short = chooseStrategy({ trainImages: 900, classes: 9, depths: depths(0.4, 0.48, 0.55, 0.62), topBlock: "block_16" }, t);
  const blocks = applyStrategy(base, short, () => false);
  assert.deepEqual([blocks.config.head.depths, blocks.config.train.fine_tune, blocks.config.base.cut], ["blocks", null, "out_relu"]);
  const ownDepths = applyStrategy({ ...base, head: { ...base.head, depths: ["block_6_project"] } }, short, (p) => p === "head.depths");
  assert.deepEqual(ownDepths.config.head.depths, ["block_6_project"], "written depths win");
  const withFineTune = defaultConfig();
  withFineTune.freeze.at = "";
  const added = applyStrategy(withFineTune, short, (p) => p === "train.fine_tune");
  assert.equal(added.config.head.depths, null, "a written fine-tune runs, and the head reads the cut alone");
  assert.deepEqual([added.config.freeze.at, added.config.train.fine_tune?.epochs], ["block_16", 4]);
  assert.deepEqual([added.config.train.fine_tune?.schedule.type, added.config.train.fine_tune?.schedule.min_factor], ["cosine", 0.05], "the short fine-tune anneals");
  const largeOwnDepths = applyStrategy({ ...base, head: { ...base.head, depths: "blocks" } }, large, (p) => p === "head.depths");
  assert.deepEqual([largeOwnDepths.config.train.fine_tune, largeOwnDepths.config.head.depths], [null, "blocks"], "written depths add no fine-tune");
  const step = defaultConfig();
  step.freeze.at = "";
  step.train.fine_tune!.schedule = { ...step.train.fine_tune!.schedule, type: "step" };
  const stepKept = applyStrategy(step, short, (p) => p === "train.fine_tune" || p === "train.fine_tune.schedule");
  assert.equal(stepKept.config.train.fine_tune?.schedule.type, "step", "a written schedule wins");
  assert.deepEqual(stepKept.kept, ["train.fine_tune", "train.fine_tune.schedule"]);

  const small = chooseStrategy({ trainImages: 900, classes: 9, depths: depths(0.4, 0.48, 0.55, 0.62) }, t);
  const forced = defaultConfig();
  forced.freeze.at = "";
  const f = applyStrategy(forced, small, (p) => p === "train.fine_tune" || p === "train.fine_tune.epochs");
  assert.equal(f.config.train.fine_tune?.epochs, 5 /* the fixture's, as written */);
  assert.equal(f.config.train.fine_tune?.learning_rate, 1e-4);
  assert.equal(f.config.freeze.at, "block_13", "a written fine-tune phase still gets the table's freeze.at");
});

test("the paragraph names the sizes, the probe, the decision and what was kept", () => {
  const input = { trainImages: 1330, classes: 9, depths: depths(0.4, 0.48, 0.55, 0.62) };
  const c = chooseStrategy(input, t);
  const cfg = defaultConfig();
  cfg.freeze.at = "";
  const { config, kept } = applyStrategy(cfg, c, (p) => p === "train.fine_tune");
  const text = describeChoice(input, c, config, kept);
  assert.match(text, /^1,330 training images \(148 per class\), top features \(out_relu\) probe at 0\.62 vs 0\.55 at block_13: similar, small → head on out_relu, fine-tune from block_13, 4 epochs at 0\.0001 \(cosine\)/);
  assert.match(text, /kept: train\.fine_tune\./);
  const plain = applyStrategy(cfg, c, () => false);
  assert.match(describeChoice(input, c, plain.config, plain.kept), /similar, small → head on out_relu and every block below it, no fine-tuning\. Why: the top features already fit, and with 148 images a class a head that also reads every block/);
  const few = { ...input, trainImages: 90 };
  const tiny = chooseStrategy(few, t);
  const none = applyStrategy(cfg, tiny, () => false);
  assert.match(describeChoice(few, tiny, none.config, none.kept), /\(10 per class\).*similar, tiny → head on out_relu, no fine-tuning\. Why: fewer than 20 images a class/);
});
