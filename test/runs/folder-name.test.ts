import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { FOLDER_NAME_MAX, folderName } from "../../src/runs/record";
import { tempDir, tinyEmojiDataset, tinyPipeline } from "../helpers";

const BIN = join(resolve(__dirname, "../../.."), "bin/tlrun.js");
const LONG = "Röntgen/Thorax – 肺炎 screening: v2 ".repeat(9).slice(0, 300);

test("folderName: accents dropped, unsafe characters replaced, long names cut keeping both ends", () => {
  assert.equal(folderName("flowers-mobilenet"), "flowers-mobilenet");
  assert.equal(folderName("Röntgen / Thorax"), "Rontgen-Thorax");
  assert.equal(folderName("../../etc/passwd"), "etc-passwd");
  assert.equal(folderName("肺炎"), "run");
  assert.equal(folderName("a\u0000b\nc"), "a-b-c");
  const long = folderName(`${"x".repeat(300)}-sweep`);
  assert.ok(long.length <= FOLDER_NAME_MAX, String(long.length));
  assert.match(long, /^x+-x+-sweep$/, "the end of the name survives the cut");
  const cut = folderName(LONG);
  assert.ok(cut.length <= FOLDER_NAME_MAX && /^[A-Za-z0-9][A-Za-z0-9._-]*[A-Za-z0-9]$/.test(cut), cut);
});

test("a 300-character name with slashes and unicode runs: a short clean folder, the whole name in summary.json", (t) => {
  const root = tempDir(t);
  const data = tinyEmojiDataset(join(root, "data"), 6, ["flags", "food-drink"]);
  const file = join(root, "p.yaml");
  writeFileSync(file, tinyPipeline(data, join(root, "runs")).replace("name: tiny", `name: ${JSON.stringify(LONG)}`));
  const r = spawnSync(process.execPath, [BIN, file, "--json"], { cwd: root, encoding: "utf8", env: { ...process.env, CI: "true" } });
  assert.equal(r.status, 0, r.stderr);
  assert.doesNotMatch(r.stderr, /ENAMETOOLONG|\n\s+at /);
  const summary = JSON.parse(r.stdout) as { run_id: string; run_dir: string; name: string };
  assert.equal(summary.name, LONG);
  assert.ok(summary.run_id.length < 100, summary.run_id);
  assert.match(summary.run_id, /^\d{8}-\d{6}-Rontgen-Thorax-screening-v2-[A-Za-z0-9._-]+-[0-9a-f]{8}$/);
  assert.deepEqual(readdirSync(join(root, "runs")).filter((n) => !n.startsWith(".")), [summary.run_id]);
  assert.equal(JSON.parse(readFileSync(join(summary.run_dir, "summary.json"), "utf8")).name, LONG);
});
