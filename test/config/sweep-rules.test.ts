import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { validateFile } from "../../src/config";
import { tempDir } from "../helpers";

function check(t: import("node:test").TestContext, sweep: string) {
  const file = join(tempDir(t), "p.yaml");
  writeFileSync(file, `name: x\ndata: {dir: d}\nhead:\n  layers: [{units: 8}]\n${sweep}`);
  const r = validateFile(file);
  return { ok: r.ok, problems: r.problems.map((p) => `${p.location?.line}:${p.location?.col} ${p.message} | ${p.hint ?? ""}`) };
}

test("an empty search space is refused where it is written", (t) => {
  const r = check(t, "sweep:\n  max_trials: 5\n  parameters: {}\n");
  assert.deepEqual(r.problems.length, 1);
  assert.match(r.problems[0]!, /^7:3 sweep.parameters is empty/);
});

test("a grid of a million combinations without max_trials is refused with the count", (t) => {
  const ten = `[${Array.from({ length: 10 }, (_, i) => i + 1).join(", ")}]`;
  const params = ["train.head.epochs", "train.head.batch_size", "seed", "head.layers.0.units", "augment.feature_copies", "augment.rotation"];
  const r = check(t, `sweep:\n  method: grid\n  parameters:\n${params.map((p) => `    ${p}: {values: ${ten}}`).join("\n")}\n`);
  assert.equal(r.problems.length, 1);
  assert.match(r.problems[0]!, /the grid has 1,000,000 combinations \(10 × 10 × 10 × 10 × 10 × 10\).*refused without max_trials \| set max_trials/);
  assert.equal(check(t, `sweep:\n  method: grid\n  max_trials: 30\n  parameters:\n${params.map((p) => `    ${p}: {values: ${ten}}`).join("\n")}\n`).ok, true);
});

test("a path that is not in the config is located, with did you mean", (t) => {
  const r = check(t, "sweep:\n  max_trials: 5\n  parameters:\n    head.dropuot: {min: 0, max: 0.5}\n    train.head.learning_rte: {values: [0.1]}\n    head.layers.3.units: {values: [8]}\n    train.fine_tune.epochs: {values: [2]}\n");
  assert.deepEqual(r.problems, [
    "8:5 sweep parameter head.dropuot is not a config path: head has no key 'dropuot' | did you mean 'dropout'?",
    "9:5 sweep parameter train.head.learning_rte is not a config path: train.head has no key 'learning_rte' | did you mean 'learning_rate'?",
    "10:5 sweep parameter head.layers.3.units: head.layers is a list of 1 item(s), so '3' does not exist | use an index from 0 to 0",
    "11:5 sweep parameter train.fine_tune.epochs is not a config path: train.fine_tune is null, not a mapping | set train.fine_tune: {} in the pipeline so the sweep can change its fields",
  ]);
});

test("min above max, and a log scale over a range from 0, are refused", (t) => {
  const r = check(t, "sweep:\n  max_trials: 5\n  parameters:\n    head.dropout: {min: 0.5, max: 0.1}\n    train.head.learning_rate: {min: 0, max: 0.1, log: true}\n");
  assert.deepEqual(r.problems, [
    "8:25 sweep parameter head.dropout has min 0.5 above max 0.1 | swap them: {min: 0.1, max: 0.5}",
    "9:37 sweep parameter train.head.learning_rate is log-scaled but its range starts at 0; a log scale needs min > 0 | e.g. min: 0.0001, or log: false",
  ]);
});

test("each value is checked against the pipeline before anything runs", (t) => {
  const r = check(t, "sweep:\n  max_trials: 5\n  parameters:\n    head.dropout: {values: [0.2, 1.5]}\n    train.head.optimizer: {choice: [adam, adamw]}\n");
  assert.equal(r.problems.length, 2);
  assert.match(r.problems[0]!, /^8:34 sweep value head.dropout = 1.5 would make an invalid pipeline: head.dropout must be < 1/);
  assert.match(r.problems[1]!, /^9:43 sweep value train.head.optimizer = adamw would make an invalid pipeline: train.head.optimizer must be one of/);
});

test("random and tpe need max_trials; ASHA needs an epoch metric; grid needs lists", (t) => {
  assert.match(check(t, "sweep:\n  method: tpe\n  parameters:\n    head.dropout: {min: 0, max: 0.5}\n").problems[0]!, /method tpe samples without end; say how many trials to run \| e.g. max_trials: 20/);
  assert.match(check(t, "sweep:\n  max_trials: 4\n  metric: test_accuracy\n  asha: {enabled: true}\n  parameters:\n    head.dropout: {min: 0, max: 0.5}\n").problems[0]!, /ASHA compares trials at epoch rungs, but metric test_accuracy/);
  assert.match(check(t, "sweep:\n  method: grid\n  parameters:\n    head.dropout: {min: 0, max: 0.5}\n").problems[0]!, /grid search needs a list of values for every parameter; head.dropout is a range/);
  assert.equal(check(t, "sweep:\n  max_trials: 4\n  parameters:\n    head.dropout: {min: 0, max: 0.5}\n").ok, true);
});
