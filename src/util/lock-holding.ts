import { closeSync, fstatSync, openSync, readFileSync } from "node:fs";
import { hostname } from "node:os";

/** Who holds a lock, written into the lock file; `token` tells one holding from the next. */
export interface Holder {
  pid: number;
  host: string;
  at: string;
  token?: string;
}

/** One holding of a lock file as a waiter saw it: its content and which file it was. */
export interface Holding {
  holder?: Holder;
  /**
   * What a takeover claim is named after: the token, or for a file without one (a writer killed
   * between creating and writing it, or a lock from before tokens) its inode and mtime. A new
   * lock file is a new inode or, if the inode is reused, a newer mtime, so no two holdings share it.
   */
  id: string;
  mtimeMs: number;
}

/**
 * The holding at `path` now, or undefined if there is none. Content and identity come from one
 * open file, so they describe the same holding even if the path is replaced meanwhile.
 */
export function holdingAt(path: string): Holding | undefined {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch {
    return undefined; // released or moved aside
  }
  try {
    const st = fstatSync(fd);
    let holder: Holder | undefined;
    try {
      holder = JSON.parse(readFileSync(fd, "utf8")) as Holder;
    } catch {
      holder = undefined; // being written, or its writer was killed before writing
    }
    const id = typeof holder?.token === "string" && /^[A-Za-z0-9-]+$/.test(holder.token) ? holder.token : `ino${st.ino}-${Math.floor(st.mtimeMs)}`;
    return { holder, id, mtimeMs: st.mtimeMs };
  } finally {
    closeSync(fd);
  }
}

/** A holding is stale when its holder is a dead process of this host, or its file went untouched for `staleMs`. */
export function isStale(h: Holding, staleMs: number): boolean {
  const holder = h.holder;
  if (holder && holder.host === hostname() && holder.pid !== process.pid) {
    try {
      process.kill(holder.pid, 0);
    } catch {
      return true;
    }
  }
  return Date.now() - h.mtimeMs > staleMs;
}
