import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig, validateFile } from "../../src/config";

function withYaml<T>(text: string, fn: (file: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), "tlrun-set-"));
  try {
    writeFileSync(join(dir, "p.yaml"), text);
    return fn(join(dir, "p.yaml"));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const BASE = "name: x\ndata: {dir: d}\nfreeze: {at: block_13_expand}\ntrain:\n  fine_tune: {epochs: 2}\n";

test("--set values are parsed as YAML and applied in order", () => {
  withYaml(BASE, (file) => {
    const { config } = loadConfig(file, { overrides: ["head.dropout=0.3", "head.layers=[{units: 64}]", "seed=1", "seed=7", "name=renamed"] });
    assert.equal(config.head.dropout, 0.3);
    assert.deepEqual(config.head.layers, [{ units: 64, activation: "relu", dropout: 0 }]);
    assert.equal(config.seed, 7);
    assert.equal(config.name, "renamed");
  });
});

test("--set can remove fine-tuning, or create it with its own defaults", () => {
  withYaml(BASE, (file) => {
    assert.equal(loadConfig(file, { overrides: ["train.fine_tune=null"] }).config.train.fine_tune, null);
  });
  withYaml("name: x\ndata: {dir: d}\nfreeze: {at: 100}\ntrain: {fine_tune: null}\n", (file) => {
    const { config } = loadConfig(file, { overrides: ["train.fine_tune.epochs=3"] });
    assert.equal(config.train.fine_tune?.epochs, 3);
    assert.equal(config.train.fine_tune?.learning_rate, 1e-5);
  });
});

test("--set problems are located in the argument and everything is validated again", () => {
  withYaml(`${BASE}head: {layers: []}\n`, (file) => {
    const { problems } = validateFile(file, { overrides: ["head.output=softmx", "nope", "head.layers.2.units=1"] });
    const where = problems.map((p) => `${p.location?.file}:${p.location?.line}:${p.location?.col}`);
    assert.deepEqual(where, ["--set nope:1:1", "--set head.layers.2.units=1:1:1"]);
    assert.match(problems[1]!.message, /cannot set '2' in head.layers: it is a list of 0 item/);
  });
  withYaml(BASE, (file) => {
    const [p] = validateFile(file, { overrides: ["head.output=softmx"] }).problems;
    assert.deepEqual(p?.location, { file: "--set head.output=softmx", line: 1, col: 13 });
    assert.equal(p?.hint, "did you mean 'softmax'?");
  });
});

test("a value in the file replaced by --set is no longer reported against the file", () => {
  withYaml(`${BASE}head: {dropout: high}\n`, (file) => {
    assert.equal(validateFile(file, { overrides: ["head.dropout=0.5"] }).ok, true);
  });
});
