import { readFileSync } from "node:fs";

/**
 * Reading the lock and commit traces (src/util/trace.ts) of the shared-cache test's processes,
 * and judging them. Kept apart from the test so that a planted bad trace can prove each check
 * fails when it should.
 */

/** One process the test started: which trace file is its, and whether and when the test killed it. */
export interface Attempt {
  id: string;
  traceFile: string;
  /** process.hrtime.bigint() just before the SIGKILL, if the test killed it. */
  killedAt?: bigint;
  /** process.hrtime.bigint() when the test saw it exit. */
  exitedAt?: bigint;
}

export interface TraceEvent {
  kind: string;
  path: string;
  host: string;
  pid: number;
  t: bigint;
  detail: string;
  attempt: string;
}

/** One holding of a lock: from its acquire to its release, or to the kill or exit that ended it. */
export interface Hold {
  lock: string;
  attempt: string;
  host: string;
  pid: number;
  token: string;
  start: bigint;
  end: bigint;
  /** How it ended: released, killed while holding, or the process exited without releasing. */
  ended: "released" | "killed" | "exited";
}

export interface Verdict {
  holds: Hold[];
  /** Commits per entry folder. */
  commits: Map<string, TraceEvent[]>;
  /** Two holds of one lock at once, by processes not killed before the second started. */
  overlaps: string[];
  /** An entry committed more than once. */
  doubleCommits: string[];
  /** A commit not inside its committer's hold of the entry's lock. */
  unlockedCommits: string[];
  lost: TraceEvent[];
  takeovers: TraceEvent[];
  /** Holds ended by a kill before their entry was committed: computations cut short. */
  killedComputing: Hold[];
}

export function readTrace(a: Attempt): TraceEvent[] {
  let text = "";
  try {
    text = readFileSync(a.traceFile, "utf8");
  } catch {
    return []; // killed before its first event
  }
  return text.split("\n").filter(Boolean).map((line) => {
    const [kind, path, host, pid, t, ...rest] = line.split(" ");
    return { kind: kind!, path: path!, host: host!, pid: Number(pid), t: BigInt(t!), detail: rest.join(" "), attempt: a.id };
  });
}

/** Pair acquires with releases per attempt; an unreleased hold ends at the kill, else at the exit. */
export function holdsOf(a: Attempt, events: TraceEvent[]): Hold[] {
  const holds: Hold[] = [];
  const open = new Map<string, TraceEvent>();
  for (const e of events) {
    if (e.kind === "acquire") open.set(e.detail, e);
    if (e.kind !== "release") continue;
    const from = open.get(e.detail);
    if (!from) continue;
    open.delete(e.detail);
    holds.push({ lock: from.path, attempt: a.id, host: from.host, pid: from.pid, token: from.detail, start: from.t, end: e.t, ended: "released" });
  }
  for (const from of open.values()) {
    const end = a.killedAt ?? a.exitedAt ?? BigInt(Number.MAX_SAFE_INTEGER) * 1000n;
    holds.push({ lock: from.path, attempt: a.id, host: from.host, pid: from.pid, token: from.detail, start: from.t, end, ended: a.killedAt !== undefined ? "killed" : "exited" });
  }
  return holds;
}

/** Every check of "none computed twice at once" over all the attempts' traces. */
export function judge(attempts: Attempt[]): Verdict {
  const events = attempts.flatMap(readTrace);
  const holds = attempts.flatMap((a) => holdsOf(a, events.filter((e) => e.attempt === a.id)));
  const overlaps: string[] = [];
  const byLock = new Map<string, Hold[]>();
  for (const h of holds) byLock.set(h.lock, [...(byLock.get(h.lock) ?? []), h]);
  for (const [lock, hs] of byLock) {
    hs.sort((x, y) => (x.start < y.start ? -1 : 1));
    for (let i = 0; i < hs.length; i++)
      for (let j = i + 1; j < hs.length; j++)
        if (hs[j]!.start < hs[i]!.end)
          overlaps.push(`${lock}: ${hs[j]!.host} pid ${hs[j]!.pid} (${hs[j]!.attempt}) took it ${ms(hs[i]!.end - hs[j]!.start)} ms before ${hs[i]!.host} pid ${hs[i]!.pid} (${hs[i]!.attempt}) let go (${hs[i]!.ended})`);
  }
  // a training stage's checkpoint (<entry>.ckpt) is committed after every epoch, under its entry's lock
  const entryOf = (path: string): string => (path.endsWith(".ckpt") ? path.slice(0, -".ckpt".length) : path);
  const allCommits = events.filter((x) => x.kind === "commit");
  const commits = new Map<string, TraceEvent[]>();
  for (const e of allCommits.filter((x) => !x.path.endsWith(".ckpt"))) commits.set(e.path, [...(commits.get(e.path) ?? []), e]);
  const doubleCommits = [...commits].filter(([, cs]) => cs.length > 1).map(([p, cs]) => `${p}: committed ${cs.length} times (${cs.map((c) => c.attempt).join(", ")})`);
  const unlockedCommits = allCommits
    .filter((c) => !holds.some((h) => h.attempt === c.attempt && h.lock === `${entryOf(c.path)}.lock` && h.start < c.t && c.t < h.end))
    .map((c) => `${c.path}: committed by ${c.attempt} outside its hold of the lock`);
  const killedComputing = holds.filter((h) => h.ended === "killed" && !(commits.get(h.lock.replace(/\.lock$/, "")) ?? []).some((c) => c.attempt === h.attempt));
  return {
    holds, commits, overlaps, doubleCommits, unlockedCommits, killedComputing,
    lost: events.filter((e) => e.kind === "lost"),
    takeovers: events.filter((e) => e.kind === "takeover"),
  };
}

function ms(ns: bigint): string {
  return (Number(ns) / 1e6).toFixed(1);
}
