import { randomUUID } from "node:crypto";
import { closeSync, linkSync, mkdirSync, openSync, renameSync, rmSync, utimesSync, writeSync } from "node:fs";
import { hostname } from "node:os";
import { basename, dirname } from "node:path";
import { UsageError } from "../errors";
import { tempPathFor } from "./atomic";
import { claimHolding, supersededClaim, sweepClaims } from "./lock-claim";
import { holdingAt, isStale, type Holder, type Holding } from "./lock-holding";
import { trace } from "./trace";

export interface LockOptions {
  /** Polling interval while another process holds the lock. */
  pollMs?: number;
  /**
   * A lock whose file has not been touched for this long is taken over (its holder is gone).
   * Default: `$TLRUN_LOCK_STALE_MS`, else 60 s; the holder touches it every sixth of that.
   */
  staleMs?: number;
  /** Called while waiting; throw from it to stop waiting (e.g. on Ctrl-C). */
  checkAbort?: () => void;
  /** Told once when the wait starts, with the holder. */
  onWait?: (holder: string) => void;
  /** Told if the lock file stops being ours while held (another process judged it stale). */
  onLost?: () => void;
}

/**
 * An exclusive lock between processes, as a file created with O_EXCL. It works on one machine
 * and on a shared filesystem: the holder touches the file every few seconds, and a waiter takes
 * over a lock whose holder is dead on this host or whose file has gone stale.
 *
 * Taking over is not check-then-delete, which lets two waiters that both saw the stale file
 * delete each other's fresh lock: see takeOver. The holder's heartbeat checks its token, so a
 * lock lost anyway (its holder paused past the stale time) is noticed (`lost`).
 */
/** The locks this process holds, for keepLocksAlive. */
const held = new Set<FileLock>();

/**
 * Touch every lock this process holds whose beat is due. The beat is a timer, and a timer cannot
 * fire while a long synchronous computation (the audit's finders: seconds at 10k images, minutes
 * at 100k) holds the event loop; other processes then judged the lock stale and took it over
 * under its live holder. Such code calls this between pieces of its work.
 */
export function keepLocksAlive(): void {
  for (const lock of held) lock.beatIfDue();
}

export class FileLock {
  private beat?: NodeJS.Timeout;
  private lastBeat = Date.now();
  private everyMs = 1000;
  private onLost?: () => void;
  private lostFlag = false;
  /** The file was missing at the last beat. */
  private missed = false;

  private constructor(readonly path: string, private readonly token: string) {}

  /** True once the lock file stopped being this holder's while held. */
  get lost(): boolean {
    return this.lostFlag;
  }

  static async acquire(path: string, opts: LockOptions = {}): Promise<FileLock> {
    const pollMs = opts.pollMs ?? 250;
    const staleMs = opts.staleMs ?? lockStaleMs();
    mkdirSync(dirname(path), { recursive: true });
    let told = false;
    for (;;) {
      opts.checkAbort?.();
      const token = randomUUID();
      if (tryCreate(path, token)) {
        const lock = new FileLock(path, token);
        lock.everyMs = Math.max(1000, staleMs / 6);
        lock.onLost = opts.onLost;
        lock.beat = setInterval(() => lock.heartbeat(), lock.everyMs);
        lock.beat.unref();
        held.add(lock);
        trace("acquire", path, token);
        return lock;
      }
      const seen = holdingAt(path);
      if (seen && isStale(seen, staleMs) && takeOver(path, seen, staleMs)) continue;
      const holder = seen?.holder;
      if (!told && holder) opts.onWait?.(`pid ${holder.pid} on ${holder.host}`), (told = true);
      await new Promise((r) => setTimeout(r, pollMs));
    }
  }

  /**
   * Touch the file while it is still ours; otherwise stop and say the lock was lost. A file
   * missing at one beat is not yet lost: a waiter checking a stale lock renames the file aside
   * and puts a live one back at once. Giving up then would stop the touches, and the lock would
   * go stale under its live holder.
   */
  private heartbeat(): void {
    const onLost = this.onLost;
    this.lastBeat = Date.now();
    const holder = readHolder(this.path);
    if (holder?.token !== this.token) {
      if (!holder && !this.missed) {
        this.missed = true;
        return;
      }
      clearInterval(this.beat);
      held.delete(this);
      if (this.lostFlag) return;
      this.lostFlag = true;
      trace("lost", this.path, this.token);
      onLost?.();
      return;
    }
    this.missed = false;
    try {
      utimesSync(this.path, new Date(), new Date());
    } catch {
      // released meanwhile
    }
  }

  /** The heartbeat, when the timer's period has passed since the last one (keepLocksAlive). */
  beatIfDue(): void {
    if (Date.now() - this.lastBeat >= this.everyMs) this.heartbeat();
  }

  /** Remove the lock file if it is still this holder's (never another's that took over). */
  release(): void {
    clearInterval(this.beat);
    held.delete(this);
    if (readHolder(this.path)?.token !== this.token) return;
    trace("release", this.path, this.token); // before the removal, so the trace never shows the next holder first
    rmSync(this.path, { force: true });
  }
}

/**
 * Move a holding judged stale out of the way; true if this waiter acted on it (the caller then
 * tries to create its lock at once), false if another waiter has claimed it (poll on).
 *
 * Only the waiter that creates the holding's claim (lock-claim.ts) may move the file, and only
 * after re-reading it as that same holding, still stale: another waiter that judged the same
 * holding cannot claim it, and the holding cannot leave the path meanwhile except by its own
 * holder's release, so what is renamed aside is the judged holding. Should its holder have
 * released it or touched it anyway (alive, but paused past the stale time), the file moved is
 * put back unless the place was taken again. Exported for tests that drive a race step by step.
 */
export function takeOver(path: string, judged: Holding, staleMs: number): boolean {
  const claim = claimHolding(path, judged.id, staleMs);
  if (!claim) return false;
  trace("claim", path, basename(claim).slice(basename(path).length + 1));
  const now = holdingAt(path);
  if (now?.id !== judged.id || !isStale(now, staleMs) || supersededClaim(claim)) return true; // gone or alive meanwhile: look again
  const aside = tempPathFor(path);
  try {
    renameSync(path, aside);
  } catch {
    return true; // released meanwhile
  }
  const moved = holdingAt(aside);
  const taken = moved?.id === judged.id && isStale(moved, staleMs);
  trace(taken ? "takeover" : "putback", path, `${moved?.holder?.host ?? "?"}:${moved?.holder?.pid ?? "?"}:${moved?.holder?.token ?? "?"}`);
  if (!taken) {
    try {
      linkSync(aside, path); // back in place only if nobody created a lock meanwhile
    } catch {
      // taken again: the holder we moved finds its token gone and reports the loss
    }
  }
  rmSync(aside, { force: true });
  sweepClaims(dirname(path), staleMs, basename(path));
  return true;
}

/** The staleness of locks: `$TLRUN_LOCK_STALE_MS`, else a minute. */
export function lockStaleMs(): number {
  return staleMsFromEnv() ?? 60_000;
}

/** TLRUN_LOCK_STALE_MS, for a shared filesystem whose clocks or pauses need another staleness. */
function staleMsFromEnv(): number | undefined {
  const raw = process.env.TLRUN_LOCK_STALE_MS;
  if (raw === undefined || raw === "") return undefined;
  const ms = Number(raw);
  if (!Number.isInteger(ms) || ms < 1000) throw new UsageError(`TLRUN_LOCK_STALE_MS=${raw} is not a whole number of milliseconds of at least 1000\n  hint: unset it for the default (60000), or set e.g. TLRUN_LOCK_STALE_MS=120000 on a filesystem with slow clocks`);
  return ms;
}

function tryCreate(path: string, token: string): boolean {
  try {
    const fd = openSync(path, "wx");
    writeSync(fd, JSON.stringify({ pid: process.pid, host: hostname(), at: new Date().toISOString(), token } satisfies Holder));
    closeSync(fd);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw err;
  }
}

function readHolder(path: string): Holder | undefined {
  return holdingAt(path)?.holder;
}
