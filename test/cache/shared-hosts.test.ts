/**
 * A cache shared by several machines (issue #20 §3): two "hosts", each a UTS namespace (its own
 * hostname) and a PID namespace (its own pids, so both hosts have a pid 3: only the host tag
 * keeps their temporaries and locks apart), share one runs/ folder. Four real `tlrun run`
 * processes, two per host, start at one moment on the same and on different stages, some are
 * killed with SIGKILL at seeded random moments (preferring one that holds a lock) and restarted until all finish, over a few rounds.
 * The lock and commit traces (src/util/trace.ts) then show that no two live processes held an
 * entry's lock at once and that each entry was committed once, inside its lock; the cache shows
 * that no entry is lost or damaged and that runs of one config agree. A last phase leaves a killed
 * process's temporary on each host and checks who sweeps it. Slow (~50 s): skipped under
 * TLRUN_FAST; skipped when namespaces are not permitted unless TLRUN_REQUIRE_UNSHARE=1.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { StageCache } from "../../src/cache/store";
import { temporaryOwner } from "../../src/util/atomic";
import { isLockClaim } from "../../src/util/lock-claim";
import { isSource, tempDir, tinyEmojiDataset, tinyPipeline } from "../helpers";
import { judge, readTrace, type Attempt } from "./shared-hosts-check";

const ROOT = resolve(__dirname, "../../..");
const BIN = join(ROOT, "bin/tlrun.js");
const GATE = join(__dirname, "shared-hosts-gate.js");
/** Short, so that a lock left by a process killed on the other host is taken over in seconds. */
const STALE_MS = 5000;
/** Two rounds keep the test near 50 s; TLRUN_SHARED_ROUNDS=10 makes a longer soak. */
const ROUNDS = Number(process.env.TLRUN_SHARED_ROUNDS) || 2;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const now = () => process.hrtime.bigint();

/** Why this machine cannot make the two hosts, or undefined. */
function namespacesMissing(): string | undefined {
  const r = spawnSync("unshare", ["-u", "-p", "-f", "--mount-proc", "--", "sh", "-c", "hostname probe && command -v nsenter"], { encoding: "utf8" });
  if (r.error) return `unshare is not installed (${r.error.message})`;
  if (r.status !== 0) return `unshare -u -p is not permitted here (${(r.stderr || "").trim() || `exit ${r.status}`}): run as root or with CAP_SYS_ADMIN`;
  return undefined;
}

function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** A "machine": the first process of a UTS + PID (+ mount, for its /proc) namespace, a sleep. */
interface Host {
  name: string;
  init: number;
}

async function startHost(name: string): Promise<Host> {
  const u = spawn("unshare", ["-u", "-p", "-f", "--mount-proc", "--", "sh", "-c", `hostname ${name} && exec sleep 3600`], { stdio: "ignore" });
  for (let i = 0; i < 500; i++) {
    const init = childrenOf(u.pid!)[0];
    if (init && readFileSync(`/proc/${init}/comm`, "utf8").trim() === "sleep") return { name, init };
    await sleep(10);
  }
  throw new Error(`host ${name} did not start`);
}

/** One `tlrun run` process on a host, entered into its namespaces with nsenter. */
interface Proc {
  attempt: Attempt;
  host: Host;
  child: ChildProcess;
  stdout: string;
  stderr: string;
  exit?: { code: number | null; signal: NodeJS.Signals | null };
}

function launch(host: Host, file: string, id: string, work: string, gate: string): Proc {
  const attempt: Attempt = { id, traceFile: join(work, "trace", `${id}.log`) };
  const env = { ...process.env, CI: "true", TLRUN_TRACE_FILE: attempt.traceFile, TLRUN_LOCK_STALE_MS: String(STALE_MS), TLRUN_TEST_GATE: gate };
  const child = spawn("nsenter", ["-t", String(host.init), "-u", "-p", "-m", "--", process.execPath, "-r", GATE, BIN, "run", file, "--json"], { cwd: work, env });
  const p: Proc = { attempt, host, child, stdout: "", stderr: "" };
  child.stdout!.on("data", (d) => (p.stdout += d));
  child.stderr!.on("data", (d) => (p.stderr += d));
  child.on("exit", (code, signal) => {
    attempt.exitedAt = now();
    p.exit = { code, signal };
  });
  return p;
}

/** The node process under nsenter, as this (outer) namespace sees it. */
const nodePid = (p: Proc): number | undefined => childrenOf(p.child.pid!)[0];

function kill(p: Proc): boolean {
  const pid = nodePid(p);
  if (!pid || p.exit || p.attempt.killedAt !== undefined) return false;
  p.attempt.killedAt = now();
  process.kill(pid, "SIGKILL");
  return true;
}

/** Whether the process holds some lock right now, by its own trace. */
function holding(p: Proc): boolean {
  const open = new Set<string>();
  for (const e of readTrace(p.attempt)) e.kind === "acquire" ? open.add(e.detail) : e.kind === "release" && open.delete(e.detail);
  return open.size > 0;
}

/** Seeded, so that a failure reproduces with TLRUN_SHARED_SEED. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Summary {
  status: string;
  metrics: Record<string, unknown>;
  stages: Array<{ name: string; key: string; cached: boolean }>;
}

/** The temporaries (entry folders, files, lock asides) in the cache, with the host and pid in their names. */
function temporaries(cacheRoot: string): Array<{ path: string; host?: string; pid: number; dir: boolean }> {
  const out = [];
  for (const stage of readdirSync(cacheRoot)) {
    for (const name of readdirSync(join(cacheRoot, stage))) {
      const owner = temporaryOwner(name);
      const path = join(cacheRoot, stage, name);
      if (owner) out.push({ path, ...owner, dir: statSync(path, { throwIfNoEntry: false })?.isDirectory() ?? false });
    }
  }
  return out;
}

/** Every entry folder in the cache (not a temporary, not a lock, not a lock's takeover claim). */
function entries(cacheRoot: string): Array<{ stage: string; key: string }> {
  return readdirSync(cacheRoot).flatMap((stage) =>
    readdirSync(join(cacheRoot, stage)).filter((n) => !temporaryOwner(n) && !n.endsWith(".lock") && !isLockClaim(n)).map((key) => ({ stage, key })));
}

async function waitExit(p: Proc): Promise<void> {
  while (!p.exit) await sleep(10);
}

test("two hosts share one runs/ folder: 4 workers, random kills; nothing lost, computed twice at once, or damaged", {
  skip: process.env.TLRUN_FAST ? "slow: TLRUN_FAST is set" : false,
  timeout: 5 * 60_000,
}, async (t) => {
  const missing = namespacesMissing();
  if (missing) {
    if (process.env.TLRUN_REQUIRE_UNSHARE === "1") assert.fail(`TLRUN_REQUIRE_UNSHARE=1 but ${missing}`);
    t.skip(`the two hosts need Linux namespaces: ${missing}`);
    return;
  }
  const seed = Number(process.env.TLRUN_SHARED_SEED) || (Date.now() % 2 ** 31);
  const rand = mulberry32(seed);
  t.diagnostic(`seed ${seed} (TLRUN_SHARED_SEED=${seed} repeats the kill schedule)`);
  const started = performance.now();
  const work = tempDir(t, "tlrun-shared-hosts-");
  const data = tinyEmojiDataset(join(work, "data"), 8);
  const runs = join(work, "runs");
  const cacheRoot = join(runs, ".cache");
  const pipeline = (name: string, seedValue: number, dropout: number): string => {
    const file = join(work, `${name}.yaml`);
    writeFileSync(file, tinyPipeline(data, runs).replace("seed: 7", `seed: ${seedValue}`).replace("dropout: 0.1", `dropout: ${dropout}`));
    return file;
  };
  mkdirSync(join(work, "trace"));

  const hosts = [await startHost("hostA"), await startHost("hostB")];
  t.after(() => {
    for (const h of hosts) {
      try {
        process.kill(h.init, "SIGKILL"); // the namespace's first process: every process in it goes too
      } catch {
        // gone already
      }
    }
  });
  const all: Proc[] = [];
  const finals: Array<{ round: number; config: string; summary: Summary }> = [];
  let kills = 0;
  let killsHolding = 0;

  for (let round = 1; round <= ROUNDS; round++) {
    // same config on both hosts (contending on every key), and a second config that shares
    // prepare and extract but has its own head, so different stages run side by side
    const configs = { X: pipeline(`r${round}-x`, 100 + round, 0.1), Y: pipeline(`r${round}-y`, 100 + round, 0.3) };
    const slots = [
      { host: hosts[0]!, config: "X" as const }, { host: hosts[0]!, config: "Y" as const },
      { host: hosts[1]!, config: "X" as const }, { host: hosts[1]!, config: "Y" as const },
    ].map((s, i) => ({ ...s, name: `r${round}-${s.host.name}-w${i}-${s.config}`, tries: 0, proc: undefined as Proc | undefined, restartAt: 0, done: false }));
    const gate = join(work, `gate-${round}`);
    const start = (s: (typeof slots)[number]): void => {
      s.proc = launch(s.host, configs[s.config], `${s.name}-a${++s.tries}`, work, gate);
      all.push(s.proc);
    };
    slots.forEach(start);
    while (!slots.every((s) => nodePid(s.proc!))) {
      for (const s of slots) assert.ok(!s.proc!.exit, `${s.proc!.attempt.id} did not start: ${s.proc!.stderr}`);
      await sleep(10);
    }
    writeFileSync(gate, "go");
    const t0 = performance.now();
    const killAt = Array.from({ length: 2 + Math.floor(rand() * 2) }, () => 2000 + rand() * 7000).sort((a, b) => a - b);
    while (!slots.every((s) => s.done)) {
      await sleep(20);
      const elapsed = performance.now() - t0;
      if (killAt.length && elapsed >= killAt[0]!) {
        const live = slots.filter((s) => s.proc && !s.proc.exit && s.proc.attempt.killedAt === undefined && nodePid(s.proc));
        const busy = live.filter((s) => holding(s.proc!));
        // a kill waits up to 4 s for a process that holds a lock, where kills matter most
        if (!busy.length && elapsed < killAt[0]! + 4000) continue;
        killAt.shift();
        const pool = busy.length ? busy : live;
        const victim = pool[Math.floor(rand() * pool.length)];
        if (victim && kill(victim.proc!)) {
          kills++;
          if (busy.length) killsHolding++;
          victim.restartAt = performance.now() + 100 + rand() * 500;
          t.diagnostic(`round ${round} +${(elapsed / 1000).toFixed(1)} s: SIGKILL ${victim.proc!.attempt.id}${busy.length ? " (holding a lock)" : ""}`);
        }
      }
      for (const s of slots) {
        const p = s.proc!;
        if (s.done || !p.exit) continue;
        if (p.attempt.killedAt !== undefined) {
          if (performance.now() >= s.restartAt) {
            assert.ok(s.tries < 6, `${s.name} killed too often`);
            start(s);
          }
          continue;
        }
        assert.equal(p.exit.code, 0, `${p.attempt.id} failed without being killed (exit ${p.exit.code} ${p.exit.signal ?? ""}):\n${p.stderr.slice(-3000)}`);
        const summary = JSON.parse(p.stdout) as Summary;
        assert.equal(summary.status, "completed");
        finals.push({ round, config: s.config, summary });
        s.done = true;
      }
    }
    // every host's later run swept its own killed processes' temporaries
    assert.deepEqual(temporaries(cacheRoot).map((x) => x.path), [], `round ${round}: temporaries left behind`);
    t.diagnostic(`round ${round}: all 4 runs completed in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }

  // (b) none computed twice at once, from the traces
  const verdict = judge(all.map((p) => p.attempt));
  assert.deepEqual(verdict.overlaps, [], "two live processes held one entry's lock at once");
  assert.deepEqual(verdict.doubleCommits, [], "an entry was computed to completion twice");
  assert.deepEqual(verdict.unlockedCommits, [], "an entry was committed outside its lock");
  assert.deepEqual(verdict.lost.map((e) => `${e.attempt} ${e.path}`), [], "a holder lost its lock");
  // (a) no entry lost, (c) none damaged: every entry a run used is there and whole, and so is every one committed
  const cache = new StageCache(cacheRoot);
  const used = new Set(finals.flatMap((f) => f.summary.stages.filter((s) => !isSource(s.name)).map((s) => `${s.name}/${s.key}`)));
  const present = entries(cacheRoot).map((e) => `${e.stage}/${e.key}`);
  for (const e of used) assert.ok(present.includes(e), `entry ${e} was used by a run and is gone`);
  for (const path of verdict.commits.keys()) assert.ok(present.includes(path.slice(cacheRoot.length + 1)), `committed entry ${path} is gone`);
  const damaged = entries(cacheRoot).filter((e) => !cache.lookup(e.stage, e.key).hit);
  assert.deepEqual(damaged, [], "damaged entries");
  // an entry without a commit line was committed by a process killed between its rename and its trace line
  for (const e of present.filter((x) => !verdict.commits.has(join(cacheRoot, x))))
    assert.ok(verdict.holds.some((h) => h.lock === `${join(cacheRoot, e)}.lock` && h.ended === "killed"), `entry ${e} is in the cache but no process committed it`);
  for (let round = 1; round <= ROUNDS; round++) {
    for (const config of ["X", "Y"]) {
      const same = finals.filter((f) => f.round === round && f.config === config);
      assert.equal(same.length, 2);
      assert.deepEqual(same[0]!.summary.metrics, same[1]!.summary.metrics, `round ${round} config ${config}: the two hosts' runs disagree`);
    }
    const head = (c: string) => finals.find((f) => f.round === round && f.config === c)!.summary.stages.find((s) => s.name === "train-head")!.key;
    assert.notEqual(head("X"), head("Y"), "the two configs differ in the head");
  }
  const pids = (host: string) => new Set(verdict.holds.filter((h) => h.host === host).map((h) => h.pid));
  const shared = [...pids("hostA")].filter((pid) => pids("hostB").has(pid));

  // (d) a killed process's temporary is swept by a later run on its own host, never by the other's (until a day old)
  const gate = join(work, "gate-sweep");
  writeFileSync(gate, "go");
  const z = pipeline("sweep-z", 300, 0.1);
  /** Kill a run on `host` while it writes an entry; the temporary it leaves (retried if the kill came just after its commit). */
  const killMidEntry = async (host: Host, id: string): Promise<string> => {
    for (let tries = 1; tries <= 3; tries++) {
      const p = launch(host, z, `${id}-a${tries}`, work, gate);
      all.push(p);
      for (;;) {
        const pid = readTrace(p.attempt)[0]?.pid;
        const mine = temporaries(cacheRoot).find((x) => x.dir && x.host === host.name && x.pid === pid);
        if (mine && kill(p)) {
          await waitExit(p);
          kills++;
          if (statSync(mine.path, { throwIfNoEntry: false })) return mine.path;
          break;
        }
        assert.ok(!p.exit, `${p.attempt.id} ended before it wrote a temporary entry: ${p.stderr.slice(-2000)}`);
        await sleep(5);
      }
    }
    assert.fail(`no kill of a run on ${host.name} left a temporary entry`);
  };
  const tempA = await killMidEntry(hosts[0]!, "sweep-hostA-killed");
  const tempB = await killMidEntry(hosts[1]!, "sweep-hostB-killed"); // started after tempA was left: its sweep ran
  assert.ok(statSync(tempA, { throwIfNoEntry: false }), `hostB's run swept hostA's temporary ${tempA}`);
  const dayAgo = new Date(Date.now() - 25 * 3600_000);
  utimesSync(tempB, dayAgo, dayAgo);
  const finish = launch(hosts[0]!, z, "sweep-hostA-finish", work, gate);
  all.push(finish);
  await waitExit(finish);
  assert.equal(finish.exit!.code, 0, finish.stderr.slice(-3000));
  assert.equal(statSync(tempA, { throwIfNoEntry: false }), undefined, "hostA's later run swept its own killed temporary");
  assert.equal(statSync(tempB, { throwIfNoEntry: false }), undefined, "hostA swept hostB's temporary once it was a day old");
  assert.deepEqual(temporaries(cacheRoot).map((x) => x.path), []);
  const after = judge(all.map((p) => p.attempt));
  assert.deepEqual([...after.overlaps, ...after.doubleCommits, ...after.unlockedCommits, ...after.lost.map((e) => `lost ${e.path}`)], []);
  assert.deepEqual(entries(cacheRoot).filter((e) => !cache.lookup(e.stage, e.key).hit), [], "damaged entries after the sweep phase");

  const staleLocks = readdirSync(cacheRoot).flatMap((s) => readdirSync(join(cacheRoot, s)).filter((n) => n.endsWith(".lock")));
  const claims = readdirSync(cacheRoot).flatMap((s) => readdirSync(join(cacheRoot, s)).filter(isLockClaim));
  const crossHost = after.takeovers.filter((e) => !e.detail.startsWith(`${e.host}:`)).length;
  for (const line of [
    `workers 4 on 2 hosts (pids used on both hosts: ${shared.join(", ") || "none"}), rounds ${ROUNDS} + sweep phase`,
    `processes ${all.length}, kills ${kills} (${killsHolding} while holding a lock, ${after.killedComputing.length} mid-computation)`,
    `entries ${entries(cacheRoot).length} (${used.size} used by the rounds' runs), computations finished ${after.commits.size}, lock holds ${after.holds.length}`,
    `takeovers ${after.takeovers.length} (${crossHost} of another host's lock; takeover claims left ${claims.length}), lost locks ${after.lost.length}, overlaps ${after.overlaps.length}, double commits ${after.doubleCommits.length}`,
    `lost entries 0, damaged 0, stale lock files left by killed holders ${staleLocks.length}, ${((performance.now() - started) / 1000).toFixed(1)} s`,
  ]) t.diagnostic(line);
});

test("the trace checks catch an overlap, a double commit and a commit outside the lock", (t) => {
  const dir = tempDir(t);
  const lock = "/c/train-head/k.lock";
  const entry = "/c/train-head/k";
  const write = (id: string, lines: string[], extra: Partial<Attempt> = {}): Attempt => {
    const traceFile = join(dir, `${id}.log`);
    writeFileSync(traceFile, lines.map((l) => `${l}\n`).join(""));
    return { id, traceFile, ...extra };
  };
  // times in ns: a killed at 150 ms, b took the lock over at 200 ms and committed: clean
  const a = write("a", [`acquire ${lock} hostA 3 100000000 ta`], { killedAt: 150_000_000n });
  const b = write("b", [`acquire ${lock} hostB 3 200000000 tb`, `commit ${entry} hostB 3 250000000`, `release ${lock} hostB 3 260000000 tb`]);
  const clean = judge([a, b]);
  assert.deepEqual([...clean.overlaps, ...clean.doubleCommits, ...clean.unlockedCommits], []);
  assert.equal(clean.killedComputing.length, 1);
  // the same pid on the other host, alive and holding while b took over
  const live = write("live", [`acquire ${lock} hostA 3 100000000 ta`, `release ${lock} hostA 3 300000000 ta`]);
  assert.match(judge([live, b]).overlaps.join(), /hostB pid 3 \(b\) took it 100\.0 ms before hostA pid 3 \(live\) let go/);
  // killed only after the other took over: still an overlap
  const lateKill = write("late", [`acquire ${lock} hostA 3 100000000 ta`], { killedAt: 220_000_000n });
  assert.equal(judge([lateKill, b]).overlaps.length, 1);
  // committed twice, and once without holding the lock
  const again = write("again", [`commit ${entry} hostA 4 400000000`]);
  const bad = judge([b, again]);
  assert.equal(bad.doubleCommits.length, 1);
  assert.deepEqual(bad.unlockedCommits, [`${entry}: committed by again outside its hold of the lock`]);
});
