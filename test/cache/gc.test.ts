import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { StageCache } from "../../src/cache/store";
import { applyGc, planGc } from "../../src/cache/gc";
import { listEntries, listLeftovers } from "../../src/cache/inventory";
import { parseBytes, formatBytes } from "../../src/cache/size";
import { HOST_TAG } from "../../src/util/atomic";
import { tempDir } from "../helpers";

/** A committed entry of `bytes` bytes, last used `ageMin` minutes ago. */
function entry(cache: StageCache, stage: string, key: string, bytes: number, ageMin: number): void {
  const tmp = cache.begin(stage, key);
  writeFileSync(join(tmp, "f.bin"), Buffer.alloc(bytes, 1));
  cache.commit(tmp, { stage, key, digest: key, seconds: 1, info: {} });
  const t = new Date(Date.now() - ageMin * 60_000);
  utimesSync(join(cache.entryDir(stage, key), "meta.json"), t, t);
}

test("gc drops what no run recorded, spares locked and recently used entries, and never another host's temporary", (t) => {
  const root = tempDir(t);
  const cache = new StageCache(root);
  entry(cache, "prepare", "needed", 100, 120);
  entry(cache, "extract", "unused", 5000, 120);
  entry(cache, "extract", "fresh", 5000, 1); // unused, but a run may be about to read it
  entry(cache, "train-head", "locked", 300, 120);
  writeFileSync(join(root, "train-head", "locked.lock"), "{}");
  mkdirSync(join(root, "extract", `x.tmp-${HOST_TAG}-999999999-1-0`)); // this machine, process gone
  mkdirSync(join(root, "extract", "x.tmp-other.host-1-1-0")); // another machine's: never ours to judge
  mkdirSync(join(root, "extract", `y.damaged-${HOST_TAG}-5-6`));
  const entries = listEntries(root);
  assert.deepEqual(entries.map((e) => `${e.stage}/${e.key}`).sort(), ["extract/fresh", "extract/unused", "prepare/needed", "train-head/locked"]);
  const plan = planGc(entries, listLeftovers(root), { needed: new Set(["prepare/needed"]) });
  assert.deepEqual(plan.drop.map((e) => e.key), ["unused"]);
  assert.deepEqual(plan.spared.map((s) => [s.entry.key, s.reason]).sort(), [["fresh", "used in the last 15 minutes"], ["locked", "locked: a stage is computing it"]]);
  assert.deepEqual(plan.leftovers.map((l) => l.kind).sort(), ["damaged", "temporary"]);
  assert.deepEqual(plan.foreign.map((l) => l.host), ["other.host"]);
  const r = applyGc(plan);
  assert.equal(r.removed, 3);
  assert.ok(r.freed >= 5000);
  assert.ok(!existsSync(cache.entryDir("extract", "unused")));
  assert.ok(existsSync(join(root, "extract", "x.tmp-other.host-1-1-0")));
  assert.ok(cache.lookup("prepare", "needed").hit && cache.lookup("extract", "fresh").hit && cache.lookup("train-head", "locked").hit);
});

test("gc --keep-size keeps the most recently used entries up to the size", (t) => {
  const root = tempDir(t);
  const cache = new StageCache(root);
  entry(cache, "extract", "a", 4000, 300);
  entry(cache, "extract", "b", 4000, 200);
  entry(cache, "extract", "c", 4000, 100);
  const budget = listEntries(root).find((e) => e.key === "c")!.bytes * 2;
  const plan = planGc(listEntries(root), [], { keepBytes: budget });
  assert.deepEqual(plan.drop.map((e) => e.key), ["a"]);
});

test("sizes parse and print in decimal units", () => {
  assert.equal(parseBytes("5GB"), 5e9);
  assert.equal(parseBytes("500 mb"), 5e8);
  assert.equal(parseBytes("2GiB"), 2 * 2 ** 30);
  assert.equal(parseBytes("12"), 12);
  assert.equal(parseBytes("5XB"), undefined);
  assert.equal(parseBytes("-1GB"), undefined);
  assert.equal(formatBytes(1_900_000_000), "1.9 GB");
  assert.equal(formatBytes(210_000_000), "210 MB");
  assert.equal(formatBytes(512), "512 B");
});

test("gc drops a checkpoint whose entry is committed or that nobody resumed for a week, never one whose stage is running", (t) => {
  const root = tempDir(t);
  const cache = new StageCache(root);
  entry(cache, "fine-tune", "done", 100, 120);
  const ckpt = (key: string, ageDays: number, locked = false): string => {
    const dir = cache.checkpointDir("fine-tune", key);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "tensors.bin"), Buffer.alloc(64));
    const when = new Date(Date.now() - ageDays * 86_400_000);
    utimesSync(dir, when, when);
    if (locked) writeFileSync(`${cache.entryDir("fine-tune", key)}.lock`, "{}");
    return dir;
  };
  const obsolete = ckpt("done", 0);
  const interrupted = ckpt("half", 1);
  const abandoned = ckpt("old", 8);
  const running = ckpt("busy", 8, true);
  const leftovers = listLeftovers(root);
  assert.deepEqual(leftovers.filter((l) => l.kind === "checkpoint").map((l) => l.path).sort(), [obsolete, interrupted, abandoned, running].sort());
  const plan = planGc(listEntries(root), leftovers, { needed: new Set(["fine-tune/done"]) });
  assert.deepEqual(plan.leftovers.map((l) => l.path).sort(), [obsolete, abandoned].sort());
  assert.deepEqual(plan.resumable.map((l) => l.path).sort(), [interrupted, running].sort());
  applyGc(plan);
  assert.ok(!existsSync(obsolete) && !existsSync(abandoned));
  assert.ok(existsSync(interrupted) && existsSync(running));
  assert.ok(cache.lookup("fine-tune", "done").hit, "the entry itself stays");
});
