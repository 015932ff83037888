/**
 * The takeover race of docs/sweeps.md, driven step by step: two waiters judge one dead holding
 * stale; the first takes it over and locks; the second's takeover must not move the first's lock
 * (a third waiter would lock in the gap before it is put back, and two would compute at once).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import fs = require("node:fs");
import { join } from "node:path";
import { FileLock, takeOver } from "../../src/util/lock";
import { holdingAt, type Holding } from "../../src/util/lock-holding";
import { tempDir } from "../helpers";

const { readFileSync, readdirSync, renameSync, rmSync, utimesSync, writeFileSync } = fs;
const STALE = 60_000;
const agedBy = (path: string, ms: number): void => utimesSync(path, new Date(Date.now() - ms), new Date(Date.now() - ms));
const tokenAt = (path: string): string | undefined => holdingAt(path)?.holder?.token;

/** A dead holder's lock of another machine, untouched for an hour. */
function plantDead(path: string, token: string): Holding {
  writeFileSync(path, JSON.stringify({ pid: 1, host: "elsewhere", at: "2026-01-01T00:00:00Z", token }));
  agedBy(path, 3600_000);
  return holdingAt(path)!;
}

/**
 * A third waiter W3 that creates its lock right after anyone renames `path` aside: the moment a
 * takeover that moved the wrong file is about to put it back. Returns how many renames it saw.
 */
function thirdWaiterAfterRenamesOf(t: { after: (fn: () => void) => void }, path: string): () => number {
  const real = fs.renameSync;
  let seen = 0;
  (fs as { renameSync: typeof real }).renameSync = (from, to) => {
    real(from, to);
    if (from === path) seen++, writeFileSync(path, JSON.stringify({ pid: 3, host: "w3", at: new Date().toISOString(), token: "w3" }), { flag: "wx" });
  };
  t.after(() => ((fs as { renameSync: typeof real }).renameSync = real));
  return () => seen;
}

test("a waiter never moves a lock it did not claim: W2's takeover of the judged holding leaves W1's fresh lock in place", async (t) => {
  const dir = tempDir(t);
  const path = join(dir, "k.lock");
  const judged = plantDead(path, "t0"); // W1 and W2 both judge t0 stale
  const w1 = await FileLock.acquire(path, { pollMs: 20, staleMs: STALE }); // W1 claims t0, moves it, locks
  const mine = tokenAt(path);
  const renames = thirdWaiterAfterRenamesOf(t, path);
  const claimed = takeOver(path, judged, STALE);
  assert.equal(tokenAt(path), mine, "W1's lock is untouched");
  assert.equal(claimed, false, "W2 cannot claim t0: W1's claim is there");
  // even with W1's claim gone (swept), W2's fresh claim re-reads the lock and finds another holding
  for (const name of readdirSync(dir)) if (name.includes(".takeover-")) rmSync(join(dir, name));
  const again = takeOver(path, judged, STALE);
  assert.equal(tokenAt(path), mine, "W1's lock is still untouched");
  assert.equal(again, true, "W2 claimed t0 afresh, re-read the lock and left it");
  assert.equal(renames(), 0, "nothing was moved aside, so W3 never got in");
  assert.equal(w1.lost, false);
  w1.release();
});

test("a waiter that died holding its claim blocks the lock only until the claim is stale; the next generation supersedes it", async (t) => {
  const dir = tempDir(t);
  const path = join(dir, "k.lock");
  const judged = plantDead(path, "t0");
  writeFileSync(`${path}.takeover-t0-0`, ""); // a waiter claimed t0 and was killed
  assert.equal(takeOver(path, judged, STALE), false, "a fresh claim is another waiter's");
  assert.equal(tokenAt(path), "t0");
  agedBy(`${path}.takeover-t0-0`, STALE + 1000);
  assert.equal(takeOver(path, judged, STALE), true);
  assert.equal(holdingAt(path), undefined, "t0 moved away");
  assert.deepEqual(readdirSync(dir).sort(), ["k.lock.takeover-t0-0", "k.lock.takeover-t0-1"]);
  // through acquire: a dead claimer's claim of 1.5 s delays the takeover, never blocks it
  plantDead(path, "t1");
  writeFileSync(`${path}.takeover-t1-0`, "");
  const start = Date.now();
  const lock = await FileLock.acquire(path, { pollMs: 20, staleMs: 1500 });
  const waited = Date.now() - start;
  assert.ok(waited >= 1400 && waited < 5000, `waited ${waited} ms for the claim to go stale`);
  assert.ok(readdirSync(dir).includes("k.lock.takeover-t1-1"));
  lock.release();
});

test("of several processes superseding one dead claim at once, exactly one moves the holding", { timeout: 30_000 }, async (t) => {
  const dir = tempDir(t);
  const path = join(dir, "k.lock");
  plantDead(path, "t0");
  writeFileSync(`${path}.takeover-t0-0`, "");
  agedBy(`${path}.takeover-t0-0`, STALE + 1000);
  const trace = join(dir, "trace.log");
  const at = Date.now() + 1500; // all start together, once loaded
  const script = `
    const { takeOver } = require(${JSON.stringify(join(__dirname, "../../src/util/lock.js"))});
    const { holdingAt } = require(${JSON.stringify(join(__dirname, "../../src/util/lock-holding.js"))});
    const judged = holdingAt(${JSON.stringify(path)});
    while (Date.now() < ${at});
    takeOver(${JSON.stringify(path)}, judged, ${STALE});`;
  await Promise.all(Array.from({ length: 6 }, () => new Promise<void>((resolve, reject) => {
    const p = spawn(process.execPath, ["-e", script], { stdio: "inherit", env: { ...process.env, TLRUN_TRACE_FILE: trace } });
    p.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`exit ${code}`))));
  })));
  const events = readFileSync(trace, "utf8").trim().split("\n").map((l) => l.split(" ")[0]);
  assert.deepEqual(events, ["claim", "takeover"], "one claim (generation 1), one move, no putback");
  assert.deepEqual(readdirSync(dir).filter((n) => n.startsWith("k.lock")).sort(), ["k.lock.takeover-t0-0", "k.lock.takeover-t0-1"]);
});

test("a lock file without a token (its writer killed before writing) is claimed by inode and mtime", async (t) => {
  const dir = tempDir(t);
  const path = join(dir, "k.lock");
  writeFileSync(path, "");
  agedBy(path, 3600_000);
  const judged = holdingAt(path)!;
  assert.match(judged.id, /^ino\d+-\d+$/);
  // replaced by another empty, stale file (another inode) before the waiter acts: not the judged one
  writeFileSync(`${path}.next`, "");
  agedBy(`${path}.next`, 3600_000);
  renameSync(`${path}.next`, path);
  assert.equal(takeOver(path, judged, STALE), true);
  assert.notEqual(holdingAt(path), undefined, "the other empty file was not moved");
  assert.notEqual(holdingAt(path)!.id, judged.id);
  const lock = await FileLock.acquire(path, { pollMs: 20, staleMs: STALE }); // judged afresh, taken over
  assert.equal(readdirSync(dir).filter((n) => n.includes(".takeover-ino")).length, 2);
  lock.release();
});
