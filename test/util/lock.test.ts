import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { linkSync, readFileSync, readdirSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { FileLock, keepLocksAlive } from "../../src/util/lock";
import { holdingAt, isStale } from "../../src/util/lock-holding";
import { tempDir } from "../helpers";

const old = (path: string): void => utimesSync(path, new Date(Date.now() - 3600_000), new Date(Date.now() - 3600_000));

test("a lock is exclusive, released by its holder, and a stale one is taken over", async (t) => {
  const dir = tempDir(t);
  const path = join(dir, "k.lock");
  const a = await FileLock.acquire(path, { staleMs: 60_000 });
  let second: FileLock | undefined;
  const waiting = FileLock.acquire(path, { pollMs: 20, staleMs: 60_000 }).then((l) => (second = l));
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(second, undefined, "held: the second waits");
  a.release();
  await waiting;
  second!.release();
  // a lock file of another machine untouched for an hour is stale
  writeFileSync(path, JSON.stringify({ pid: 1, host: "elsewhere", at: "2026-01-01T00:00:00Z", token: "t0" }));
  old(path);
  const taken = await FileLock.acquire(path, { pollMs: 20, staleMs: 60_000 });
  assert.notEqual(JSON.parse(readFileSync(path, "utf8")).token, "t0");
  taken.release();
  assert.deepEqual(readdirSync(dir), ["k.lock.takeover-t0-0"], "no lock file and no aside file left; the claim on t0 stays to turn late waiters away");
});

test("a holder whose lock was taken over notices, and its release leaves the new holder's file alone", async (t) => {
  const dir = tempDir(t);
  const path = join(dir, "k.lock");
  let lost = 0;
  const a = await FileLock.acquire(path, { staleMs: 6000, onLost: () => lost++ });
  old(path); // paused for longer than staleMs
  const b = await FileLock.acquire(path, { pollMs: 20, staleMs: 6000 });
  await new Promise((r) => setTimeout(r, 1100)); // a's heartbeat (every staleMs / 6 = 1 s)
  assert.equal(a.lost, true);
  assert.equal(lost, 1);
  a.release();
  assert.equal(JSON.parse(readFileSync(path, "utf8")).host, hostname(), "b's lock is still there");
  assert.equal(b.lost, false);
  b.release();
});

test("processes racing for one stale lock hold it one at a time", async (t) => {
  const dir = tempDir(t);
  const path = join(dir, "k.lock");
  writeFileSync(path, JSON.stringify({ pid: 1, host: "elsewhere", at: "2026-01-01T00:00:00Z", token: "t0" }));
  old(path);
  const log = join(dir, "held.log");
  const script = `
    const { FileLock } = require(${JSON.stringify(join(__dirname, "../../src/util/lock.js"))});
    const { appendFileSync } = require("node:fs");
    (async () => {
      for (let i = 0; i < 3; i++) {
        const l = await FileLock.acquire(${JSON.stringify(path)}, { pollMs: 5, staleMs: 60000 });
        appendFileSync(${JSON.stringify(log)}, "in " + process.pid + "\\n");
        await new Promise((r) => setTimeout(r, 15));
        appendFileSync(${JSON.stringify(log)}, "out " + process.pid + "\\n");
        l.release();
      }
    })();`;
  await Promise.all(Array.from({ length: 4 }, () => new Promise<void>((resolve, reject) => {
    const p = spawn(process.execPath, ["-e", script], { stdio: "inherit" });
    p.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`exit ${code}`))));
  })));
  const lines = readFileSync(log, "utf8").trim().split("\n");
  assert.equal(lines.length, 24);
  for (let i = 0; i < lines.length; i += 2) {
    const [inn, out] = [lines[i]!.split(" "), lines[i + 1]!.split(" ")];
    assert.deepEqual([inn[0], out[0], out[1]], ["in", "out", inn[1]], `lines ${i}-${i + 1}: one holder at a time`);
  }
});

test("TLRUN_LOCK_STALE_MS sets when another host's untouched lock counts as stale; a bad value is a usage error", { timeout: 20_000 }, async (t) => {
  const dir = tempDir(t);
  const path = join(dir, "k.lock");
  const before = process.env.TLRUN_LOCK_STALE_MS;
  t.after(() => (before === undefined ? delete process.env.TLRUN_LOCK_STALE_MS : (process.env.TLRUN_LOCK_STALE_MS = before)));
  process.env.TLRUN_LOCK_STALE_MS = "soon";
  await assert.rejects(FileLock.acquire(path), (err: Error) => err.name === "UsageError" && /TLRUN_LOCK_STALE_MS=soon is not a whole number of milliseconds/.test(err.message));
  // another machine's lock, last touched 3 s ago: held under the default minute, stale under 2 s
  writeFileSync(path, JSON.stringify({ pid: 1, host: "elsewhere", at: "2026-01-01T00:00:00Z", token: "t0" }));
  utimesSync(path, new Date(Date.now() - 3000), new Date(Date.now() - 3000));
  delete process.env.TLRUN_LOCK_STALE_MS;
  let waited = "";
  const held = FileLock.acquire(path, { pollMs: 20, onWait: (who) => (waited = who) }).then((l) => l.release(), () => undefined);
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(waited, "pid 1 on elsewhere", "the default staleness waits");
  rmSync(path); // let the waiter go
  await held;
  writeFileSync(path, JSON.stringify({ pid: 1, host: "elsewhere", at: "2026-01-01T00:00:00Z", token: "t1" }));
  utimesSync(path, new Date(Date.now() - 3000), new Date(Date.now() - 3000));
  process.env.TLRUN_LOCK_STALE_MS = "2000";
  const taken = await FileLock.acquire(path, { pollMs: 20 });
  assert.notEqual(JSON.parse(readFileSync(path, "utf8")).token, "t1");
  taken.release();
});

test("a holder whose file is briefly moved aside by a waiter's check (and put back) keeps its lock and its heartbeat", { timeout: 20_000 }, async (t) => {
  const dir = tempDir(t);
  const path = join(dir, "k.lock");
  const a = await FileLock.acquire(path, { staleMs: 6000 }); // heartbeat every second
  const aside = `${path}.aside`;
  renameSync(path, aside); // a waiter's rename-aside-and-check, caught mid-way by a heartbeat
  await new Promise((r) => setTimeout(r, 1100));
  linkSync(aside, path); // the waiter found a fresh holding and puts it back
  rmSync(aside);
  old(path);
  await new Promise((r) => setTimeout(r, 1100));
  assert.equal(a.lost, false, "not lost: the file came back with its token");
  assert.ok(Date.now() - statSync(path).mtimeMs < 1500, "and the heartbeat still touches it, so it never goes stale under a live holder");
  a.release();
  assert.deepEqual(readdirSync(dir), []);
  // gone for two heartbeats in a row: lost
  const b = await FileLock.acquire(path, { staleMs: 6000 });
  rmSync(path);
  await new Promise((r) => setTimeout(r, 2200));
  assert.equal(b.lost, true);
  b.release();
});

test("keepLocksAlive touches a held lock while synchronous work holds the event loop, where the timer cannot", async (t) => {
  const path = join(tempDir(t), "k.lock");
  const staleMs = 1500; // a beat every second
  const busy = (ms: number, tick?: () => void): void => {
    const end = Date.now() + ms;
    while (Date.now() < end) tick?.();
  };
  const a = await FileLock.acquire(path, { staleMs });
  busy(2500, keepLocksAlive); // the audit's finders call it between pieces of their work
  assert.equal(isStale(holdingAt(path)!, staleMs), false, "kept fresh by keepLocksAlive");
  a.release();
  const b = await FileLock.acquire(path, { staleMs });
  busy(2500); // without the calls: what other processes saw before, and took the lock over
  assert.equal(isStale(holdingAt(path)!, staleMs), true, "the timer alone cannot fire during synchronous work");
  b.release();
  keepLocksAlive(); // a released lock is no longer touched (nor recreated)
  assert.equal(holdingAt(path), undefined);
});
