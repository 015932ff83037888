import { existsSync, renameSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { tempPathFor } from "../util/atomic";
import { temporaryLive, type EntryInfo, type Leftover } from "./inventory";
import { CHECKPOINT_SUFFIX, META } from "./store";
import { pidAlive } from "../util/pid";

/**
 * An entry used this recently is kept whatever the mode: a run between a cache hit and the line
 * in its summary that records it, or a plan about to run, may be about to read it.
 */
export const GC_GRACE_MS = 15 * 60_000;

/**
 * A checkpoint lets an interrupted training stage resume; one untouched this long belongs to a
 * run nobody went back to, and gc drops it. One whose entry is committed is dropped at once.
 */
export const CHECKPOINT_KEEP_MS = 7 * 24 * 3600_000;

export interface GcOptions {
  /** Entries (`<stage>/<key>`) some kept run recorded; the others go. */
  needed?: ReadonlySet<string>;
  /** Instead: keep the most recently used entries up to this many bytes, drop the rest. */
  keepBytes?: number;
  now?: number;
  graceMs?: number;
  pidAlive?: (pid: number) => boolean;
}

export interface GcPlan {
  drop: EntryInfo[];
  /** Entries kept that the mode alone would have dropped, and why. */
  spared: Array<{ entry: EntryInfo; reason: string }>;
  /** Damaged folders moved aside, and this machine's temporaries whose process is gone. */
  leftovers: Leftover[];
  /** Temporaries left alone: another machine's, or a live process's. */
  foreign: Leftover[];
  /** Checkpoints kept: a stage computing now, or an interrupted run that may still be resumed. */
  resumable: Leftover[];
}

/** Decide what `tlrun cache gc` removes; touches nothing. */
export function planGc(entries: EntryInfo[], leftovers: Leftover[], opts: GcOptions): GcPlan {
  const now = opts.now ?? Date.now();
  const grace = opts.graceMs ?? GC_GRACE_MS;
  const alive = opts.pidAlive ?? pidAlive;
  const plan: GcPlan = { drop: [], spared: [], leftovers: [], foreign: [], resumable: [] };
  const unwanted = new Set<EntryInfo>();
  if (opts.keepBytes !== undefined) {
    let kept = 0;
    for (const e of [...entries].sort((a, b) => b.lastUsed - a.lastUsed)) {
      if (e.problem === undefined && kept + e.bytes <= opts.keepBytes) kept += e.bytes;
      else unwanted.add(e);
    }
  } else {
    for (const e of entries) if (e.problem !== undefined || !opts.needed?.has(`${e.stage}/${e.key}`)) unwanted.add(e);
  }
  for (const e of entries) {
    if (!unwanted.has(e)) continue;
    if (e.locked) plan.spared.push({ entry: e, reason: "locked: a stage is computing it" });
    else if (now - e.lastUsed < grace) plan.spared.push({ entry: e, reason: `used in the last ${Math.round(grace / 60_000)} minutes` });
    else plan.drop.push(e);
  }
  for (const l of leftovers) {
    if (l.kind === "checkpoint") (!l.locked && (l.obsolete || now - l.mtime > CHECKPOINT_KEEP_MS) ? plan.leftovers : plan.resumable).push(l);
    else if (l.kind === "damaged" || !temporaryLive(l, alive)) plan.leftovers.push(l);
    else plan.foreign.push(l);
  }
  return plan;
}

/**
 * Remove what a plan drops. Each folder is first renamed to a temporary name (readers see the
 * whole entry or none), after checking once more that no lock appeared and it was not used since.
 */
export function applyGc(plan: GcPlan, graceMs = GC_GRACE_MS): { removed: number; freed: number; skipped: string[] } {
  let removed = 0;
  let freed = 0;
  const skipped: string[] = [];
  const remove = (path: string, bytes: number): void => {
    const gone = tempPathFor(path);
    try {
      renameSync(path, gone);
    } catch {
      return void skipped.push(`${path}: already gone`);
    }
    rmSync(gone, { recursive: true, force: true });
    removed++;
    freed += bytes;
  };
  for (const e of plan.drop) {
    if (existsSync(`${e.dir}.lock`)) skipped.push(`${e.stage}/${e.key.slice(0, 12)}: locked meanwhile`);
    else if (usedSince(e, graceMs)) skipped.push(`${e.stage}/${e.key.slice(0, 12)}: used meanwhile`);
    else remove(e.dir, e.bytes);
  }
  for (const l of plan.leftovers) {
    if (l.kind === "checkpoint" && existsSync(`${l.path.slice(0, -CHECKPOINT_SUFFIX.length)}.lock`)) skipped.push(`${l.path}: its stage started meanwhile`);
    else remove(l.path, l.bytes);
  }
  return { removed, freed, skipped };
}

function usedSince(e: EntryInfo, graceMs: number): boolean {
  try {
    const t = statSync(join(e.dir, META)).mtimeMs;
    return t > e.lastUsed && Date.now() - t < graceMs;
  } catch {
    return false;
  }
}
