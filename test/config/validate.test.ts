import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig, validateFile } from "../../src/config";
import { ConfigError, EXIT, formatProblem } from "../../src/errors";

/** Writes `text` to a pipeline file in a fresh temp folder, runs `fn`, then removes the folder. */
function withYaml<T>(text: string, fn: (file: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), "tlrun-config-"));
  try {
    const file = join(dir, "pipeline.yaml");
    writeFileSync(file, text);
    return fn(file);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const OK = "name: x\ndata: {dir: d}\n";
const aliasBomb = ["x0: &a0 [1,1,1,1,1,1,1,1,1,1]", ...Array.from({ length: 7 }, (_, i) => `x${i + 1}: &a${i + 1} [${Array(10).fill(`*a${i}`).join(",")}]`)].join("\n");

interface Case {
  name: string;
  yaml: string;
  sets?: string[];
  /** Expected `file:line:col`, where file is "" for the YAML file. */
  at: string;
  message: string;
  hint?: string;
}

const CASES: Case[] = [
  { name: "misspelled top-level key", yaml: `${OK}hed:\n  dropout: 0.1\n`, at: ":3:1", message: "unknown key 'hed' at the top level", hint: "did you mean 'head'" },
  { name: "misspelled nested key", yaml: `${OK}head:\n  layers:\n    - units: 8\n      activaton: relu\n`, at: ":6:7", message: "unknown key 'activaton' in head.layers.0", hint: "did you mean 'activation'?" },
  { name: "wrong type", yaml: `${OK}head:\n  dropout: high\n`, at: ":4:12", message: 'head.dropout must be a number, found string "high"', hint: "e.g. dropout: 0.2" },
  { name: "bad enum", yaml: "name: x\ndata:\n  dir: d\n  preprocessing: caffee\n", at: ":4:18", message: "data.preprocessing must be one of auto, tf, caffe, torch, none", hint: "did you mean 'caffe'?" },
  { name: "bad interpolation", yaml: "name: x\ndata:\n  dir: d\n  interpolation: bicubc\n", at: ":4:18", message: "data.interpolation must be one of bilinear, nearest, bicubic, lanczos3", hint: "did you mean 'bicubic'?" },
  { name: "interpolation of the wrong type", yaml: "name: x\ndata: {dir: d, interpolation: 3}\n", at: ":2:31", message: "data.interpolation must be a string, found number 3" },
  { name: "--set with a bad interpolation", yaml: OK, sets: ["data.interpolation=area"], at: "--set data.interpolation=area:1:20", message: "data.interpolation must be one of bilinear, nearest, bicubic, lanczos3" },
  { name: "out of range", yaml: `${OK}head: {dropout: 1.5}\n`, at: ":3:17", message: "head.dropout must be < 1, found number 1.5", hint: "0 <= value < 1" },
  { name: "input_size of the wrong type", yaml: `${OK}base: {input_size: big}\n`, at: ":3:20", message: 'base.input_size must be an integer or a list, found string "big"' },
  { name: "empty name", yaml: "name: ''\ndata: {dir: d}\n", at: ":1:7", message: "name must not be empty", hint: "name: flowers-mobilenet" },
  { name: "missing required top-level key", yaml: "name: x\n", at: ":1:1", message: "missing required key 'data' at the top level", hint: "add data: {dir: data/flowers}" },
  { name: "missing data.dir", yaml: "name: x\ndata:\n  split: {train: 0.8, val: 0.1, test: 0.1}\n", at: ":2:1", message: "missing required key 'dir' in data" },
  { name: "tab indentation", yaml: "name: x\ndata:\n\tdir: d\n", at: ":3:1", message: "tab character used for indentation", hint: "indent with spaces" },
  { name: "duplicate key", yaml: `${OK}name: y\n`, at: ":3:1", message: "duplicate key 'name'" },
  { name: "!!js/function tag", yaml: `${OK}seed: !!js/function 'function () { return 1 }'\n`, at: ":3:7", message: "unsupported tag '!!js/function'" },
  { name: "custom tag", yaml: `${OK}head:\n  l2: !foo 3\n`, at: ":4:7", message: "unsupported tag '!foo'" },
  { name: "alias bomb", yaml: `${OK}${aliasBomb}\n`, at: ":4:10", message: "alias bomb" },
  { name: "unknown alias", yaml: `${OK}head: *nope\n`, at: ":3:7", message: "unknown alias '*nope'" },
  { name: "YAML syntax error", yaml: "name: x\ndata: {dir: d\nseed: 1\n", at: ":3:1", message: "invalid YAML" },
  { name: "two YAML documents", yaml: `${OK}---\nname: y\n`, at: ":3:1", message: "more than one YAML document" },
  { name: "empty file", yaml: "", at: ":1:1", message: "the config file is empty" },
  { name: "comments only", yaml: "# nothing here\n", at: ":1:1", message: "the config file is empty" },
  { name: "list at the top level", yaml: "- name: x\n- data: {dir: d}\n", at: ":1:1", message: "the top level must be a mapping", hint: "name: my-pipeline" },
  { name: "split not summing to 1", yaml: "name: x\ndata:\n  dir: d\n  split: {train: 0.7, val: 0.2, test: 0.15}\n", at: ":4:3", message: "data.split ratios must sum to 1, found 0.7 + 0.2 + 0.15 = 1.05", hint: "test: 0.1" },
  { name: "fine_tune without freeze.at", yaml: `${OK}train:\n  fine_tune:\n    epochs: 3\n`, at: ":4:3", message: "train.fine_tune is set but freeze.at is not", hint: "write freeze.at: block_13 (a block, layer name, index or fraction" },
  { name: "warm-up as long as the phase", yaml: `${OK}train:\n  head: {epochs: 3, schedule: {warmup_epochs: 3}}\n`, at: ":4:47", message: "warmup_epochs (3) must be fewer than train.head.epochs (3)" },
  { name: "--set without '='", yaml: OK, sets: ["head.dropout"], at: "--set head.dropout:1:1", message: "--set expects path=value", hint: "--set head.dropout=0.3" },
  { name: "--set with a wrong type", yaml: OK, sets: ["head.dropout=high"], at: "--set head.dropout=high:1:14", message: 'head.dropout must be a number, found string "high"' },
  { name: "--set with an unknown key", yaml: OK, sets: ["head.dropot=0.3"], at: "--set head.dropot=0.3:1:1", message: "unknown key 'dropot' in head", hint: "did you mean 'dropout'?" },
  { name: "--set inside a flow value", yaml: OK, sets: ["head.layers=[{units: x}]"], at: "--set head.layers=[{units: x}]:1:22", message: "head.layers.0.units must be an integer" },
  { name: "--set through a non-object", yaml: OK, sets: ["name.x=1"], at: "--set name.x=1:1:1", message: "cannot set 'x' inside name, which is string \"x\"" },
  { name: "--set with a bad YAML value", yaml: OK, sets: ["head.layers=[1"], at: "--set head.layers=[1:1:15", message: "invalid YAML" },
];

for (const c of CASES) {
  test(`bad config: ${c.name}`, () => {
    withYaml(c.yaml, (file) => {
      const { ok, problems } = validateFile(file, { overrides: c.sets });
      assert.equal(ok, false);
      assert.equal(problems.length, 1, problems.map(formatProblem).join("\n"));
      const p = problems[0]!;
      const where = `${p.location?.file === file ? "" : p.location?.file}:${p.location?.line}:${p.location?.col}`;
      assert.equal(where, c.at, formatProblem(p));
      assert.ok(p.message.includes(c.message), `message: ${p.message}`);
      if (c.hint) assert.ok(p.hint?.includes(c.hint), `hint: ${p.hint}`);
    });
  });
}

test("a misspelled key and a wrong type give exactly two located errors", () => {
  withYaml(`${OK}hed: {}\nseed: forty-two\n`, (file) => {
    const { problems } = validateFile(file);
    assert.deepEqual(
      problems.map((p) => `${p.location?.line}:${p.location?.col} ${p.message}`),
      ["3:1 unknown key 'hed' at the top level", '4:7 seed must be an integer, found string "forty-two"'],
    );
  });
});

test("loadConfig throws a ConfigError with exit code 2 and every problem", () => {
  withYaml("name: x\ndata: {dir: 3}\nhead: {pooling: mean}\n", (file) => {
    assert.throws(() => loadConfig(file), (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.equal(e.exitCode, EXIT.usage);
      assert.equal(e.problems.length, 2);
      assert.match(e.message, /pipeline\.yaml:2:13: error: data\.dir must be a string/);
      return true;
    });
  });
});

test("a missing file is a ConfigError, not a stack trace", () => {
  assert.throws(() => loadConfig("/nonexistent/pipeline.yaml"), (e: unknown) => e instanceof ConfigError && /no such file/.test(e.message));
});

test("defaults are filled, input_size is normalised, and paths stay relative", () => {
  withYaml(`${OK}base: {input_size: 160}\ntrain:\n  fine_tune: {}\nfreeze: {at: block_13_expand}\n`, (file) => {
    const loaded = loadConfig(file);
    assert.deepEqual(loaded.config.base.input_size, [160, 160]);
    assert.equal(loaded.config.train.fine_tune?.learning_rate, 1e-5);
    assert.equal(loaded.config.train.fine_tune?.epochs, 5);
    assert.equal(loaded.config.train.head.learning_rate, 1e-3);
    assert.equal(loaded.config.data.dir, "d");
    assert.equal(loaded.file, file);
    assert.equal(loaded.baseDir, join(file, ".."));
    assert.deepEqual(loaded.locate("freeze.at"), { file, line: 6, col: 14 });
  });
});

test("a value of one of several shapes is judged by the shape it has: a mapping threshold by its target", () => {
  withYaml(`${OK}evaluate:\n  threshold: { target_sensitivity: 1.2 }\n`, (file) => {
    assert.deepEqual(validateFile(file).problems.map((p) => p.message), ["evaluate.threshold.target_sensitivity must be < 1, found number 1.2"]);
  });
  withYaml(`${OK}evaluate:\n  threshold: yuden\ntrain:\n  class_weight: { other: -1 }\n`, (file) => {
    const problems = validateFile(file).problems;
    assert.deepEqual(problems.map((p) => p.message), ['evaluate.threshold must be one of youden; found string "yuden"', "train.class_weight.other must be > 0, found number -1"]);
    assert.match(problems[0]!.hint ?? "", /did you mean 'youden'/);
  });
});
