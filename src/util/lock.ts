import { closeSync, mkdirSync, openSync, readFileSync, rmSync, statSync, utimesSync, writeSync } from "node:fs";
import { hostname } from "node:os";
import { dirname } from "node:path";

/** Who holds a lock, written into the lock file. */
interface Holder {
  pid: number;
  host: string;
  at: string;
}

export interface LockOptions {
  /** Polling interval while another process holds the lock. */
  pollMs?: number;
  /** A lock whose file has not been touched for this long is taken over (its holder is gone). */
  staleMs?: number;
  /** Called while waiting; throw from it to stop waiting (e.g. on Ctrl-C). */
  checkAbort?: () => void;
  /** Told once when the wait starts, with the holder. */
  onWait?: (holder: string) => void;
}

/**
 * An exclusive lock between processes, as a file created with O_EXCL. It works on one machine
 * and on a shared filesystem: the holder touches the file every few seconds, and a waiter takes
 * over a lock whose holder is dead on this host or whose file has gone stale.
 */
export class FileLock {
  private beat?: NodeJS.Timeout;

  private constructor(readonly path: string) {}

  static async acquire(path: string, opts: LockOptions = {}): Promise<FileLock> {
    const pollMs = opts.pollMs ?? 250;
    const staleMs = opts.staleMs ?? 60_000;
    mkdirSync(dirname(path), { recursive: true });
    let told = false;
    for (;;) {
      opts.checkAbort?.();
      if (tryCreate(path)) {
        const lock = new FileLock(path);
        lock.beat = setInterval(() => { try { utimesSync(path, new Date(), new Date()); } catch { /* released */ } }, Math.max(1000, staleMs / 6));
        lock.beat.unref();
        return lock;
      }
      const holder = readHolder(path);
      if (isStale(path, holder, staleMs)) {
        rmSync(path, { force: true });
        continue;
      }
      if (!told && holder) opts.onWait?.(`pid ${holder.pid} on ${holder.host}`), (told = true);
      await new Promise((r) => setTimeout(r, pollMs));
    }
  }

  release(): void {
    clearInterval(this.beat);
    rmSync(this.path, { force: true });
  }
}

function tryCreate(path: string): boolean {
  try {
    const fd = openSync(path, "wx");
    writeSync(fd, JSON.stringify({ pid: process.pid, host: hostname(), at: new Date().toISOString() } satisfies Holder));
    closeSync(fd);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw err;
  }
}

function readHolder(path: string): Holder | undefined {
  try {
    return JSON.parse(readFileSync(path, "utf8")) as Holder;
  } catch {
    return undefined; // being written or just released
  }
}

function isStale(path: string, holder: Holder | undefined, staleMs: number): boolean {
  if (holder && holder.host === hostname() && holder.pid !== process.pid) {
    try {
      process.kill(holder.pid, 0);
    } catch {
      return true;
    }
  }
  try {
    return Date.now() - statSync(path).mtimeMs > staleMs;
  } catch {
    return false;
  }
}
