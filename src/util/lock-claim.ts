import { closeSync, existsSync, openSync, readdirSync, rmSync, statSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { holdingAt } from "./lock-holding";

/**
 * A takeover claim: `<lock>.takeover-<holding id>-<generation>`, an empty file created with
 * O_EXCL. Only the waiter that created it may move that holding aside, so two waiters that judged
 * the same holding stale never both move the lock file (the second would move the first's fresh
 * lock). A claimer that dies leaves its claim; once older than the stale time the next generation
 * supersedes it, again with O_EXCL, so two waiters cannot both supersede one claim.
 */
const CLAIM = /^(.+)\.takeover-([A-Za-z0-9-]+)-(\d+)$/;

/** Whether a file name in a stage folder is a takeover claim (never an entry or a temporary). */
export function isLockClaim(name: string): boolean {
  return CLAIM.test(name);
}

/**
 * How old every claim on a holding must be before the claims are removed. A waiter that judged the
 * holding stale may act on that judgement later; the claim left in place turns it away. (Even
 * without it the claimer re-reads the lock before moving it, so this is a second line.)
 */
export const claimKeepMs = (staleMs: number): number => Math.max(3600_000, 10 * staleMs);

/** Claim the holding `id` of the lock `path`: the claim's path, or undefined if another waiter holds it. */
export function claimHolding(path: string, id: string, staleMs: number): string | undefined {
  const prefix = `${basename(path)}.takeover-${id}-`;
  let last = -1;
  for (const name of readdirSync(dirname(path))) {
    const n = name.startsWith(prefix) ? Number(name.slice(prefix.length)) : NaN;
    if (Number.isInteger(n) && n > last) last = n;
  }
  if (last >= 0 && Date.now() - mtimeOf(`${path}.takeover-${id}-${last}`) <= staleMs) return undefined; // a live claimer's
  const claim = `${path}.takeover-${id}-${last + 1}`;
  try {
    closeSync(openSync(claim, "wx"));
    return claim;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return undefined;
    throw err;
  }
}

/** Whether a later generation superseded this claim (its claimer paused past the stale time). */
export function supersededClaim(claim: string): boolean {
  const m = CLAIM.exec(basename(claim))!;
  return existsSync(join(dirname(claim), `${m[1]}.takeover-${m[2]}-${Number(m[3]) + 1}`));
}

/**
 * Remove claims in `dir` (of the lock named `lockName` only, if given) once every generation on
 * the holding is older than claimKeepMs and the lock no longer holds that holding: a claim still
 * guarding the holding in place, or a live claimer's, is kept. Returns how many were removed.
 */
export function sweepClaims(dir: string, staleMs: number, lockName?: string, now = Date.now()): number {
  const series = new Map<string, { lock: string; id: string; names: string[] }>();
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return 0;
  }
  for (const name of names) {
    const m = CLAIM.exec(name);
    if (!m || (lockName !== undefined && m[1] !== lockName)) continue;
    const key = `${m[1]}\n${m[2]}`;
    const s = series.get(key) ?? { lock: m[1]!, id: m[2]!, names: [] };
    s.names.push(name);
    series.set(key, s);
  }
  let n = 0;
  for (const s of series.values()) {
    if (s.names.some((name) => now - mtimeOf(join(dir, name)) <= claimKeepMs(staleMs))) continue;
    if (holdingAt(join(dir, s.lock))?.id === s.id) continue;
    for (const name of s.names) rmSync(join(dir, name), { force: true }), n++;
  }
  return n;
}

function mtimeOf(path: string): number {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return 0; // removed as old meanwhile
  }
}
