import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, utimesSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { StageCache } from "../../src/cache/store";
import { tempDir } from "../helpers";
import { flipMiddle } from "../cache/flip";

const BIN = resolve(__dirname, "../../../bin/tlrun.js");

function tlrun(args: string[], cwd: string) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: "utf8", env: { ...process.env, CI: "true" } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, json: () => JSON.parse(r.stdout) };
}

/** runs/ with a cache of two entries, one recorded by a run, both last used two hours ago. */
function fixture(root: string): { cache: StageCache; runId: string } {
  const cache = new StageCache(join(root, "runs", ".cache"));
  for (const [stage, key] of [["prepare", "a".repeat(64)], ["extract", "b".repeat(64)]] as const) {
    const tmp = cache.begin(stage, key);
    writeFileSync(join(tmp, "data.bin"), Buffer.alloc(2000, 3));
    cache.commit(tmp, { stage, key, digest: key, seconds: 1, info: {} });
    const t = new Date(Date.now() - 2 * 3600_000);
    utimesSync(join(cache.entryDir(stage, key), "meta.json"), t, t);
  }
  const runId = "20260101-000000-tiny-00000000";
  mkdirSync(join(root, "runs", runId));
  writeFileSync(join(root, "runs", runId, "summary.json"), JSON.stringify({ run_id: runId, status: "completed", stages: [{ name: "prepare", cached: false, seconds: 1, key: "a".repeat(64) }] }));
  return { cache, runId };
}

test("tlrun cache: help on every subcommand exits 0, usage errors exit 2 without a stack", (t) => {
  const root = tempDir(t);
  for (const args of [["cache", "--help"], ["cache", "ls", "-h"], ["cache", "verify", "--help"], ["cache", "gc", "-h"]]) {
    const r = tlrun(args, root);
    assert.equal(r.code, 0, args.join(" "));
    assert.match(r.stdout, /tlrun cache gc \[--keep-size 5GB\]/);
  }
  for (const args of [["cache"], ["cache", "lss"], ["cache", "ls", "extra"], ["cache", "gc", "--keep-size", "5XB"], ["cache", "gc", "--bogus"], ["cache", "gc"], ["cache", "verify", "--run", "nope"]]) {
    const r = tlrun(args, root);
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  }
  assert.match(tlrun(["cache", "lss"], root).stderr, /did you mean 'ls'/);
  assert.match(tlrun(["cache", "gc"], root).stderr, /no runs folder at .*runs/);
});

test("tlrun cache ls, verify and gc on a cache with a run", (t) => {
  const root = tempDir(t);
  const { cache, runId } = fixture(root);
  const ls = tlrun(["cache", "ls"], root);
  assert.equal(ls.code, 0, ls.stderr);
  assert.match(ls.stdout, /^STAGE\s+KEY\s+SIZE\s+CREATED\s+LAST USE\s+RUNS$/m);
  assert.match(ls.stdout, new RegExp(`^prepare\\s+aaaaaaaaaaaa\\s+[\\d.]+ kB\\s+\\S+ \\S+\\s+\\S+ \\S+\\s+${runId}$`, "m"));
  assert.match(ls.stdout, /^extract\s+bbbbbbbbbbbb\s+.*\s-$/m);
  assert.match(ls.stdout, /^total: 2 entries, [\d.]+ kB in runs\/\.cache\/; 1 used by none of the 1 runs in runs\/ \([\d.]+ kB; tlrun cache gc drops them\)$/m);
  const json = tlrun(["cache", "ls", "--json"], root).json();
  assert.deepEqual(json.entries.map((e: { stage: string; runs: string[] }) => [e.stage, e.runs]), [["extract", []], ["prepare", [runId]]]);

  assert.equal(tlrun(["cache", "verify"], root).code, 0);
  flipMiddle(join(cache.entryDir("extract", "b".repeat(64)), "data.bin"));
  const v = tlrun(["cache", "verify"], root);
  assert.equal(v.code, 1);
  assert.match(v.stdout, /^damaged: extract\/bbbbbbbbbbbb \(data\.bin: content differs from its sha256\)$/m);
  assert.match(v.stdout, /verified 2 entries, .*: 1 ok, 1 damaged/);
  const only = tlrun(["cache", "verify", "--run", runId], root);
  assert.equal(only.code, 0, "the run's own entries are whole");
  assert.match(only.stdout, /verified 1 entries/);

  const dry = tlrun(["cache", "gc", "--dry-run"], root);
  assert.equal(dry.code, 0, dry.stderr);
  assert.match(dry.stdout, /^would remove extract\/bbbbbbbbbbbb .*no run uses it$/m);
  assert.match(dry.stdout, /^would free [\d.]+ kB \(1 folder\); kept 1 entries, [\d.]+ kB \(used by the 1 runs in runs\/\)$/m);
  assert.ok(cache.lookup("prepare", "a".repeat(64)).hit);
  const gc = tlrun(["cache", "gc"], root);
  assert.match(gc.stdout, /^freed [\d.]+ kB \(1 folder\)/m);
  assert.deepEqual(tlrun(["cache", "ls", "--json"], root).json().entries.map((e: { stage: string }) => e.stage), ["prepare"]);
  const keep = tlrun(["cache", "gc", "--keep-size", "0", "--json"], root).json();
  assert.deepEqual(keep.removed.map((e: { stage: string }) => e.stage), ["prepare"], "--keep-size 0 keeps nothing, runs or not");
});
