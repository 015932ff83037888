import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { HeadConfig } from "../../src/config/types";
import { stackedDropout } from "../../src/training/head";
import { tempDir, tinyEmojiDataset, tinyPipeline } from "../helpers";

const BIN = join(resolve(__dirname, "../../.."), "bin/tlrun.js");
const head = (layers: Array<{ dropout: number }>, dropout: number): HeadConfig => ({ layers: layers.map((l) => ({ units: 8, activation: "relu", ...l })), dropout } as HeadConfig);

test("stackedDropout: the last layer's dropout and head.dropout, and what they drop together", () => {
  const d = stackedDropout(head([{ dropout: 0 }, { dropout: 0.3 }], 0.2))!;
  assert.deepEqual([d.index, d.layer, d.head], [1, 0.3, 0.2]);
  assert.ok(Math.abs(d.effective - 0.44) < 1e-12);
  assert.equal(stackedDropout(head([{ dropout: 0.3 }, { dropout: 0 }], 0.2)), undefined, "an earlier layer's dropout does not stack");
  assert.equal(stackedDropout(head([{ dropout: 0.3 }], 0)), undefined);
  assert.equal(stackedDropout(head([], 0.2)), undefined);
});

test("tlrun plan notes stacked dropout in text and JSON, and says nothing when there is one", (t) => {
  const root = tempDir(t);
  const data = tinyEmojiDataset(join(root, "data"), 4, ["flags", "food-drink"]);
  const file = join(root, "p.yaml");
  writeFileSync(file, tinyPipeline(data, join(root, "runs")).replace("dropout: 0.1 }]", "dropout: 0.3 }]\n  dropout: 0.2"));
  const plan = (...args: string[]) => spawnSync(process.execPath, [BIN, "plan", file, ...args], { cwd: root, encoding: "utf8" });
  const text = plan();
  assert.equal(text.status, 0, text.stderr);
  assert.match(text.stdout, /^ {2}note: head\.layers\[0\]\.dropout 0\.3 and head\.dropout 0\.2 both act on the last hidden layer's units, one after the other: about 0\.44 of them are dropped in training/m);
  assert.match(JSON.parse(plan("--json").stdout).notes[0], /about 0\.44/);
  const single = plan("--set", "head.dropout=0");
  assert.equal(single.status, 0, single.stderr);
  assert.doesNotMatch(single.stdout, /note:/);
  assert.equal(JSON.parse(plan("--json", "--set", "head.dropout=0").stdout).notes, undefined);
});
