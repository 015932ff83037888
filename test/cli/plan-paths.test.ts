/**
 * What `tlrun plan` says about where things go: the runs folder, resolved from the working
 * directory (not the pipeline file's folder), as the schema and README say.
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
