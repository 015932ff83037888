import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync, readdirSync, renameSync, writeFileSync, mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { tempDir, tinyEmojiDataset, tinyPipeline } from "../helpers";

const BIN = join(resolve(__dirname, "../../.."), "bin/tlrun.js");
const SLOW = { skip: process.env.TLRUN_FAST ? "slow: TLRUN_FAST is set" : false, timeout: 5 * 60_000 };

function tlrun(args: string[], cwd: string) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: "utf8", env: { ...process.env, CI: "true" } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test("a run reads its labels from a table: classes from the label column, a row whose file is gone skipped and listed, an edited label re-runs prepare", SLOW, (t) => {
  const root = tempDir(t);
  // The tiny emoji set, moved into one flat folder with a CSV, as HAM10000 ships.
  const folders = tinyEmojiDataset(join(root, "folders"));
  mkdirSync(join(root, "images"));
  const rows = ["file,category,lesion"];
  for (const cls of readdirSync(folders))
    for (const name of readdirSync(join(folders, cls))) {
      renameSync(join(folders, cls, name), join(root, "images", `${cls}-${name}`));
      rows.push(`${cls}-${name},${cls},${name.replace(".png", "")}`);
    }
  rows.push("gone.png,flags,none");
  writeFileSync(join(root, "labels.csv"), rows.join("\n") + "\n");
  const file = join(root, "p.yaml");
  const yaml = tinyPipeline(join(root, "images"), join(root, "runs")).replace(/^data:\n/m, "data:\n  labels: labels.csv\n  columns: { path: file, label: category }\n  on_missing: skip\n");
  writeFileSync(file, yaml);

  const r = tlrun([file, "--json"], root);
  assert.equal(r.code, 0, r.stderr);
  const s = JSON.parse(r.stdout);
  assert.equal(s.status, "completed");
  assert.deepEqual(s.data.classes, ["flags", "food-drink", "smileys-emotion"]);
  assert.equal(s.data.skipped_files, 1);
  assert.ok(s.warnings.some((w: string) => /1 row of labels\.csv names a file that is not there/.test(w)), s.warnings.join("\n"));
  const manifest = JSON.parse(readFileSync(join(s.run_dir, "manifest.json"), "utf8"));
  assert.deepEqual(manifest.skipped, [{ rel: "gone.png", reason: `not found (labels.csv:${rows.length}; data.on_missing: skip)` }]);

  const again = JSON.parse(tlrun([file, "--json"], root).stdout);
  assert.ok(again.stages.every((st: { cached: boolean }) => st.cached), "an unchanged table keeps every stage");
  writeFileSync(join(root, "labels.csv"), rows.join("\n").replace(/,flags,/, ",food-drink,") + "\n");
  const edited = JSON.parse(tlrun([file, "--json"], root).stdout);
  const ran = edited.stages.filter((st: { cached: boolean }) => !st.cached).map((st: { name: string }) => st.name);
  assert.deepEqual(ran.slice(0, 2), ["prepare", "extract"], "an edited label re-runs prepare and what follows");
});
