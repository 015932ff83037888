import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { listEntries } from "../../src/cache/inventory";
import { StageCache } from "../../src/cache/store";
import { run } from "../../src/index";
import type { RunSummary } from "../../src/runs/record";
import { flipMiddle } from "../cache/flip";
import { isSource, tempDir, tinyEmojiDataset, tinyPipeline } from "../helpers";

const BIN = resolve(__dirname, "../../../bin/tlrun.js");
const SLOW = { skip: process.env.TLRUN_FAST ? "slow: TLRUN_FAST is set" : false, timeout: 5 * 60_000 };

function tlrun(args: string[], cwd: string) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: "utf8", env: { ...process.env, CI: "true" } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, json: () => JSON.parse(r.stdout) };
}

const cachedOf = (s: RunSummary): Record<string, boolean> => Object.fromEntries(s.stages.map((x) => [x.name, x.cached]));

/**
 * The must-show: a same-size flip of 64 bytes in the middle of any file of any stage's
 * cache entry is warned about, naming the entry, the entry is recomputed, and the run's metrics
 * equal a clean run's. One clean run; then round k damages the k-th file of every entry at once
 * (a fresh copy of the clean cache each round), so every file is covered in as many runs as the
 * largest entry has files.
 */
test("a same-size flip in any cache file is warned about, recomputed, and the metrics equal a clean run's", SLOW, async (t) => {
  const root = tempDir(t, "tlrun-digest-");
  const file = join(root, "p.yaml");
  writeFileSync(file, tinyPipeline(tinyEmojiDataset(join(root, "data")), join(root, "runs")));
  const cacheDir = join(root, "runs", ".cache");
  const clean = await run(file);
  assert.equal(clean.status, "completed");
  const planned = tlrun(["plan", file], root);
  assert.match(planned.stdout, /^cache: [\d.]+ MB in 7 entries \(runs\/\.cache\/\); this plan reuses 7 entries, [\d.]+ MB$/m);
  const pristine = join(root, "pristine");
  cpSync(cacheDir, pristine, { recursive: true });
  const entries = listEntries(pristine).map((e) => ({ stage: e.stage, key: e.key, files: [...Object.keys(e.meta!.files), "meta.json"] }));
  assert.deepEqual(entries.map((e) => e.stage).sort(), ["audit", "evaluate", "extract", "fine-tune", "prepare", "train-head", "unfreeze"]);
  const restore = (): void => {
    rmSync(cacheDir, { recursive: true, force: true });
    cpSync(pristine, cacheDir, { recursive: true });
  };
  // round k damages the k-th file of every entry that has one, while that is more than one entry
  const rounds = [...entries.map((e) => e.files.length)].sort((a, b) => b - a)[1]!;
  let covered = 0;
  const damageAndRun = async (damaged: Array<{ stage: string; key: string; file: string }>): Promise<void> => {
    const t0 = Date.now();
    const s = await run(file);
    const what = damaged.map((d) => `${d.stage}/${d.file}`).join(", ");
    t.diagnostic(`${what}: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    assert.equal(s.status, "completed", what);
    for (const d of damaged) {
      const warned = s.warnings.find((w) => w.startsWith(`cache entry ${d.stage}/${d.key.slice(0, 12)} is damaged`));
      assert.ok(warned, `no warning for ${d.stage}/${d.file}: ${JSON.stringify(s.warnings)}`);
      assert.equal(cachedOf(s)[d.stage], false, `${d.stage} recomputed after ${d.file} was damaged`);
    }
    assert.deepEqual(s.metrics, clean.metrics, `metrics after damaging ${what}`);
  };
  for (let k = 0; k < rounds; k++) {
    restore();
    const damaged = entries.filter((e) => e.files[k]).map((e) => ({ ...e, file: e.files[k]! }));
    for (const d of damaged) flipMiddle(join(cacheDir, d.stage, d.key, d.file));
    const warnings = damaged.map((d) => (new StageCache(cacheDir).lookup(d.stage, d.key) as { warning?: string }).warning ?? "");
    damaged.forEach((d, i) => assert.ok(warnings[i]!.includes(d.file), `${d.stage}/${d.file}: ${warnings[i]}`));
    await damageAndRun(damaged);
    covered += damaged.length;
  }
  // the largest entry's other files: each flip named by the lookup, then all of them in one re-run
  const rest = entries.flatMap((e) => e.files.slice(rounds).map((f) => ({ ...e, file: f })));
  for (const d of rest) {
    restore();
    flipMiddle(join(cacheDir, d.stage, d.key, d.file));
    const w = (new StageCache(cacheDir).lookup(d.stage, d.key) as { warning?: string }).warning ?? "";
    assert.match(w, new RegExp(`^cache entry ${d.stage}/${d.key.slice(0, 12)} is damaged \\(.*${d.file.replace(/\./g, "\\.")}.*\\); recomputing$`));
  }
  restore();
  for (const d of rest) flipMiddle(join(cacheDir, d.stage, d.key, d.file));
  if (rest.length) await damageAndRun(rest.slice(0, 1));
  covered += rest.length;
  t.diagnostic(`${covered} files in ${entries.length} entries damaged, each caught; ${rounds + (rest.length ? 1 : 0)} re-runs recomputed them`);

  // a feature file too big to hash at lookup is checked block by block as train-head reads it
  restore();
  const extract = entries.find((e) => e.stage === "extract")!;
  flipMiddle(join(cacheDir, "extract", extract.key, "plain.f32"));
  for (const e of entries) if (["train-head", "fine-tune", "evaluate"].includes(e.stage)) rmSync(join(cacheDir, e.stage, e.key), { recursive: true });
  process.env.TLRUN_CACHE_SMALL_FILE_BYTES = "0";
  let streamed: RunSummary;
  try {
    streamed = await run(file);
  } finally {
    delete process.env.TLRUN_CACHE_SMALL_FILE_BYTES;
  }
  assert.equal(streamed.status, "completed");
  assert.ok(streamed.warnings.some((w) => /^cache entry extract\/\w{12} is damaged \(plain\.f32: block 1 of 1 does not match its digest\), found while train-head read it; moved aside and recomputing extract$/.test(w)), JSON.stringify(streamed.warnings));
  assert.deepEqual(streamed.metrics, clean.metrics);
  assert.ok(readdirSync(join(cacheDir, "extract")).some((n) => n.includes(".damaged-")), "the damaged entry was moved aside, not deleted");

  // tlrun cache: verify finds what the lookups skip, ls and gc see the runs
  const verified = tlrun(["cache", "verify"], root);
  assert.equal(verified.code, 0, verified.stdout + verified.stderr);
  assert.match(verified.stdout, /verified 7 entries, .*: 7 ok, 0 damaged/);
  flipMiddle(join(cacheDir, "extract", extract.key, "aug-1.f32"));
  const bad = tlrun(["cache", "verify", "--json"], root);
  assert.equal(bad.code, 1);
  assert.deepEqual(bad.json().damaged.map((d: { stage: string; detail: string }) => [d.stage, d.detail]), [["extract", "aug-1.f32: content differs from its sha256"]]);
  const removed = tlrun(["cache", "verify", "--remove"], root);
  assert.equal(removed.code, 1);
  assert.match(removed.stdout, /damaged: extract\/\w{12} \(aug-1\.f32: .*\); moved aside to runs\/\.cache\/extract\/\w+\.damaged-/);
  const ls = tlrun(["cache", "ls", "--json"], root).json();
  assert.equal(ls.totals.entries, 6);
  assert.equal(ls.totals.damaged_aside, 2);
  const runIds = readdirSync(join(root, "runs")).filter((n) => !n.startsWith(".")).sort();
  for (const e of ls.entries) assert.ok(e.runs.length > 0 && e.runs.every((r: string) => runIds.includes(r)), JSON.stringify(e));
  const gc = tlrun(["cache", "gc"], root);
  assert.equal(gc.code, 0, gc.stderr);
  assert.match(gc.stdout, /^freed [\d.]+ kB \(2 folders\); kept 6 entries/m);
  assert.ok(!readdirSync(join(cacheDir, "extract")).some((n) => n.includes(".damaged-")));
  const again = await run(file);
  assert.equal(cachedOf(again).extract, false, "the entry --remove moved aside is recomputed");
  assert.deepEqual(again.metrics, clean.metrics);
  assert.ok(Object.entries(cachedOf(again)).every(([n, c]) => c || n === "extract" || isSource(n)));
  assert.ok(existsSync(join(cacheDir, "extract", extract.key, "meta.json")));
});
