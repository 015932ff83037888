import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { tempDir, tinyEmojiDataset, tinyPipeline } from "../helpers";

const BIN = join(resolve(__dirname, "../../.."), "bin/tlrun.js");

/** The CLI's result, with stdout parsed as exactly one JSON object (it must be one line). */
function tlrunJson(args: string[], cwd: string) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: "utf8", env: { ...process.env, CI: "true" } });
  const lines = r.stdout.split("\n").filter(Boolean);
  assert.equal(lines.length, 1, `${args.join(" ")}: one line of JSON on stdout, got: ${r.stdout}\nstderr: ${r.stderr}`);
  return { code: r.status, stderr: r.stderr, json: JSON.parse(lines[0]!) as Record<string, unknown> };
}

test("--json on a failure before any run record: one object with status, error and exit code, located problems for a config error", (t) => {
  const root = tempDir(t);
  const bad = join(root, "bad.yaml");
  writeFileSync(bad, "name: bad\ndata:\n  dir: x\nhed:\n  dropout: 0.2\n");
  const config = tlrunJson(["run", bad, "--json"], root);
  assert.equal(config.code, 2);
  assert.deepEqual([config.json.status, config.json.exit_code], ["failed", 2]);
  assert.match(String(config.json.error), /bad\.yaml:4:1: error: .*hed/);
  assert.deepEqual((config.json.problems as Array<{ line: number; col: number }>).map((p) => [p.line, p.col]), [[4, 1]]);
  assert.match(config.stderr, /did you mean 'head'/, "the message still goes to the person at the terminal");
  assert.ok(!existsSync(join(root, "runs")));

  const cases: Array<[string[], RegExp]> = [
    [[bad, "--json"], /hed/], // the short form of run
    [["run", "--json"], /expected 1 argument/],
    [["run", join(root, "missing.yaml"), "--json"], /missing\.yaml/],
    [["plan", bad, "--json"], /hed/],
    [["sweep", bad, "--json"], /hed/],
    [["predict", "nope", "img.png", "--json"], /no run 'nope'/],
    [["export", "nope", "--json"], /missing --format/],
  ];
  for (const [args, error] of cases) {
    const r = tlrunJson(args, root);
    assert.equal(r.code, 2, args.join(" "));
    assert.deepEqual([r.json.status, r.json.exit_code], ["failed", 2], args.join(" "));
    assert.match(String(r.json.error), error, args.join(" "));
  }
  // without --json stdout stays empty, and --help is not a failure
  assert.equal(spawnSync(process.execPath, [BIN, "plan", bad], { cwd: root, encoding: "utf8" }).stdout, "");
  assert.doesNotMatch(spawnSync(process.execPath, [BIN, "plan", "--json", "--help"], { cwd: root, encoding: "utf8" }).stdout, /"status"/);
});

test("--json on a run that fails in a stage: the run's summary with status failed, the error and exit code 1", (t) => {
  const root = tempDir(t);
  const data = tinyEmojiDataset(join(root, "data"), 4, ["flags", "food-drink"]);
  writeFileSync(join(data, "flags", "broken.png"), "not a png");
  const file = join(root, "p.yaml");
  writeFileSync(file, tinyPipeline(data, join(root, "runs")).replace("  split:", "  on_bad_image: fail\n  split:"));
  const r = tlrunJson([file, "--json"], root);
  assert.equal(r.code, 1, r.stderr);
  assert.deepEqual([r.json.status, r.json.exit_code], ["failed", 1]);
  assert.match(String(r.json.error), /broken\.png/);
  assert.ok(typeof r.json.run_id === "string" && existsSync(join(String(r.json.run_dir), "summary.json")), "it names the run record");
  assert.ok(Array.isArray(r.json.stages));
});
