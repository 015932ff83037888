import { closeSync, fsyncSync, openSync, renameSync, writeSync, mkdirSync, rmSync } from "node:fs";
import { hostname } from "node:os";
import { dirname } from "node:path";
import { trace } from "./trace";

let counter = 0;

/**
 * This machine's name as it appears in temporary names: letters, digits and dots only, so that
 * `<host>-<pid>-…` parses back unambiguously. Several machines may share one runs/ folder; a pid
 * alone says nothing about another machine's processes.
 */
export const HOST_TAG = hostname().replace(/[^A-Za-z0-9.]/g, "_") || "host";

/** A temporary path beside `path`, unique to this process on this machine, on the same filesystem. */
export function tempPathFor(path: string): string {
  return `${path}.tmp-${HOST_TAG}-${process.pid}-${Date.now()}-${counter++}`;
}

/**
 * Who made a temporary name of tempPathFor: its host tag and pid. A name from before host tags
 * (`.tmp-<pid>-<ms>-<n>`) has host undefined; anything else is not a temporary (undefined).
 */
export function temporaryOwner(name: string): { host?: string; pid: number } | undefined {
  const tagged = /\.tmp-([A-Za-z0-9._]+)-(\d+)-\d+-\d+$/.exec(name);
  if (tagged && !/^\d+$/.test(tagged[1]!)) return { host: tagged[1]!, pid: Number(tagged[2]) };
  const legacy = /\.tmp-(\d+)-\d+-\d+$/.exec(name);
  return legacy ? { pid: Number(legacy[1]) } : undefined;
}

/** Write a file so that readers see either the old content or the whole new content. */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = tempPathFor(path);
  try {
    const fd = openSync(tmp, "w");
    try {
      writeSync(fd, typeof data === "string" ? Buffer.from(data) : data);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

/**
 * Put the fully written folder `tmpDir` at `dest`. An existing `dest` is renamed aside first and
 * removed only once the new folder is in place, so nothing is deleted before its replacement
 * exists: a crash in between leaves the old folder (as a temporary the next sweep removes, and
 * `dest` missing, which reads as a cache miss), never a half-deleted one. If the new folder cannot
 * be moved in, the old one is moved back.
 */
export function commitDir(tmpDir: string, dest: string): void {
  mkdirSync(dirname(dest), { recursive: true });
  try {
    renameSync(tmpDir, dest);
    trace("commit", dest);
    return;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== "ENOTEMPTY" && code !== "EEXIST" && code !== "EISDIR") throw err;
  }
  const aside = tempPathFor(dest);
  renameSync(dest, aside);
  try {
    renameSync(tmpDir, dest);
  } catch (err) {
    try {
      renameSync(aside, dest);
    } catch {
      // another process put a folder at dest meanwhile; ours stays aside for the sweep
    }
    throw err;
  }
  trace("commit", dest, "over-old");
  rmSync(aside, { recursive: true, force: true });
}
