import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { tempDir } from "./helpers";

// The package entry, as `import { run, plan, validate } from "tlrun"` resolves it.
const tlrun = require(resolve(__dirname, "../..")) as typeof import("../src/index");

test("the package exports validate, plan and run", (t) => {
  assert.equal(typeof tlrun.run, "function");
  const root = tempDir(t);
  const bad = join(root, "bad.yaml");
  writeFileSync(bad, "name: x\ndata: { dir: . }\nhead: { dropout: high }\n");
  const v = tlrun.validate(bad);
  assert.equal(v.ok, false);
  assert.equal(v.problems[0]!.location!.line, 3);
  const stages = tlrun.plan(resolve(__dirname, "../../pipelines/quickstart.yaml"), { overrides: ["train.fine_tune=null"] });
  assert.deepEqual(stages.map((s) => s.name), ["dataset", "weights", "prepare", "extract", "audit", "train-head", "evaluate"]);
});
