import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, readdirSync, truncateSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { listEntries, listLeftovers } from "../../src/cache/inventory";
import { StageCache } from "../../src/cache/store";
import { HOST_TAG, commitDir, tempPathFor, temporaryOwner } from "../../src/util/atomic";
import { tempDir } from "../helpers";

test("an entry is invisible until committed, then found with its info", (t) => {
  const cache = new StageCache(tempDir(t));
  const tmp = cache.begin("extract", "k1");
  writeFileSync(join(tmp, "plain.f32"), Buffer.alloc(64));
  assert.equal(cache.lookup("extract", "k1").hit, false);
  cache.commit(tmp, { stage: "extract", key: "k1", digest: "d1", seconds: 1, info: { rows: 2 } });
  const found = cache.lookup("extract", "k1");
  assert.ok(found.hit);
  assert.equal(found.meta.digest, "d1");
  assert.deepEqual(found.meta.info, { rows: 2 });
  assert.equal(existsSync(tmp), false);
});

test("a truncated or damaged entry is a miss with a warning, never a throw", (t) => {
  const cache = new StageCache(tempDir(t));
  const tmp = cache.begin("extract", "k2");
  writeFileSync(join(tmp, "plain.f32"), Buffer.alloc(64));
  cache.commit(tmp, { stage: "extract", key: "k2", digest: "k2", seconds: 1, info: {} });
  truncateSync(join(cache.entryDir("extract", "k2"), "plain.f32"), 10);
  const r = cache.lookup("extract", "k2");
  assert.equal(r.hit, false);
  assert.match((r as { warning: string }).warning, /damaged .*plain\.f32 is 10 bytes, expected 64/);
  writeFileSync(join(cache.entryDir("extract", "k2"), "meta.json"), "{not json");
  assert.equal(cache.lookup("extract", "k2").hit, false);
});

test("this machine's temporaries of dead processes are swept; live ones and other machines' recent ones are kept", (t) => {
  const root = tempDir(t);
  const cache = new StageCache(root);
  const mine = cache.begin("prepare", "k");
  assert.match(mine, new RegExp(`k\\.tmp-${HOST_TAG.replace(/\./g, "\\.")}-${process.pid}-`), "named by host and pid");
  writeFileSync(join(mine, "x"), "1");
  const dir = (name: string): string => (mkdirSync(join(root, "prepare", name)), name);
  const dead = dir(`k.tmp-${HOST_TAG}-999999999-1-0`);
  const otherHost = dir("k.tmp-build_host.example-999999999-1-0"); // another machine, pid meaningless here
  const legacy = dir("k.tmp-999999999-1-0"); // from before host tags: whose it is, nobody knows
  assert.equal(cache.sweepTemporaries(), 1);
  assert.deepEqual(readdirSync(join(root, "prepare")).sort(), [mine.split("/").pop(), otherHost, legacy].sort());
  assert.ok(!readdirSync(join(root, "prepare")).includes(dead));
  // a day later the other machine's and the unattributed ones count as abandoned too
  assert.equal(cache.sweepTemporaries(Date.now() + 25 * 3600_000), 2);
  assert.deepEqual(readdirSync(join(root, "prepare")), [mine.split("/").pop()]);
});

test("temporary names parse back to host and pid, whatever the host name holds", () => {
  assert.deepEqual(temporaryOwner(`x.tmp-${HOST_TAG}-42-1700000000000-3`), { host: HOST_TAG, pid: 42 });
  assert.deepEqual(temporaryOwner("x.tmp-42-1700000000000-3"), { pid: 42 });
  assert.equal(temporaryOwner("x.lock"), undefined);
  assert.match(HOST_TAG, /^[A-Za-z0-9._]+$/);
  assert.match(tempPathFor("/a/b"), /^\/a\/b\.tmp-[A-Za-z0-9._]+-\d+-\d+-\d+$/);
});

test("committing over an existing entry replaces it without deleting it first, and a failed move puts it back", (t) => {
  const root = tempDir(t);
  const dest = join(root, "entry");
  mkdirSync(dest);
  writeFileSync(join(dest, "f"), "old");
  const next = join(root, "next");
  mkdirSync(next);
  writeFileSync(join(next, "f"), "new");
  commitDir(next, dest);
  assert.equal(readFileSync(join(dest, "f"), "utf8"), "new");
  assert.deepEqual(readdirSync(root), ["entry"], "no aside folder left");
  // the new folder vanished before the move: the old entry is restored, not lost
  assert.throws(() => commitDir(join(root, "missing"), dest));
  assert.equal(readFileSync(join(dest, "f"), "utf8"), "new");
  assert.deepEqual(readdirSync(root), ["entry"]);
});

test("lock takeover claims are neither entries nor temporaries; the sweep removes them once old and no longer guarding a holding", (t) => {
  const root = tempDir(t);
  const cache = new StageCache(root);
  const tmp = cache.begin("prepare", "k");
  cache.commit(tmp, { stage: "prepare", key: "k", digest: "d", seconds: 1, info: {} });
  const sdir = join(root, "prepare");
  const claim = (name: string, ageMs: number): void => {
    writeFileSync(join(sdir, name), "");
    utimesSync(join(sdir, name), new Date(Date.now() - ageMs), new Date(Date.now() - ageMs));
  };
  claim("k.lock.takeover-gone-0", 2 * 3600_000); // its holding was taken over long ago: goes
  writeFileSync(join(sdir, "k2.lock"), JSON.stringify({ pid: 1, host: "elsewhere", at: "", token: "held" }));
  claim("k2.lock.takeover-held-0", 2 * 3600_000); // its claimer died, the holding is still there: stays
  claim("k3.lock.takeover-x-0", 2 * 3600_000);
  claim("k3.lock.takeover-x-1", 0); // superseded just now by a live claimer: the series stays
  claim("k4.lock.takeover-ino12-345-0", 0); // fresh
  assert.deepEqual(listEntries(root).map((e) => e.key), ["k"]);
  assert.deepEqual(listLeftovers(root), []);
  assert.equal(cache.sweepTemporaries(), 1);
  assert.deepEqual(readdirSync(sdir).filter((n) => n.includes(".takeover-")).sort(), ["k2.lock.takeover-held-0", "k3.lock.takeover-x-0", "k3.lock.takeover-x-1", "k4.lock.takeover-ino12-345-0"]);
});
