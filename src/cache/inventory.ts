import { existsSync, lstatSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { HOST_TAG, temporaryOwner } from "../util/atomic";
import { CHECKPOINT_SUFFIX, DAMAGED_MARK, META, readEntryMeta, type EntryMeta } from "./store";

/** Past this size `tlrun plan` suggests `tlrun cache gc`: a sweep's trials add entries quietly. */
export const LARGE_CACHE_BYTES = 10e9;

/** One committed entry of the stage cache, as `tlrun cache` lists it. */
export interface EntryInfo {
  stage: string;
  key: string;
  dir: string;
  bytes: number;
  createdAt?: string;
  /** Last hit or commit (meta.json's mtime), in ms. */
  lastUsed: number;
  /** Recorded with content digests (false: before digests, checked by size only). */
  digests: boolean;
  meta?: EntryMeta;
  /** Why meta.json could not be read, if it could not. */
  problem?: string;
  /** A lock file beside it: a process is computing it right now (or died doing so). */
  locked: boolean;
}

/**
 * Something beside the entries: a damaged entry moved aside, a temporary of a stage being written,
 * the checkpoint (`<key>.ckpt`) of a training stage that was interrupted before its entry was
 * committed, or a folder of fine-tune's scratch files (scratch.ts, under the runs folder's `.scratch`).
 */
export interface Leftover {
  kind: "damaged" | "temporary" | "checkpoint" | "scratch";
  stage: string;
  path: string;
  bytes: number;
  mtime: number;
  /** The host and pid a temporary's name gives (damaged folders carry them too). */
  host?: string;
  pid?: number;
  /** A checkpoint's stage is being computed right now (its entry's lock is there). */
  locked?: boolean;
  /** A checkpoint whose entry is committed: nothing will resume from it. */
  obsolete?: boolean;
}

/** Bytes under a path (files only; links not followed). */
export function pathBytes(path: string): number {
  try {
    const st = lstatSync(path);
    if (!st.isDirectory()) return st.size;
    return readdirSync(path).reduce((sum, name) => sum + pathBytes(join(path, name)), 0);
  } catch {
    return 0; // removed meanwhile
  }
}

function stageDirs(root: string): string[] {
  if (!existsSync(root)) return [];
  return readdirSync(root, { withFileTypes: true }).filter((d) => d.isDirectory() && !d.name.startsWith(".")).map((d) => d.name).sort();
}

/** An entry folder is named by its key alone; temporaries, aside folders and locks carry a dot. */
const isEntryName = (name: string): boolean => !name.includes(".");

/** Every committed entry under `root`, by stage then key; reads each meta.json, hashes nothing. */
export function listEntries(root: string): EntryInfo[] {
  const out: EntryInfo[] = [];
  for (const stage of stageDirs(root)) {
    const sdir = join(root, stage);
    for (const d of readdirSync(sdir, { withFileTypes: true })) {
      if (!d.isDirectory() || !isEntryName(d.name)) continue;
      const dir = join(sdir, d.name);
      const locked = existsSync(`${dir}.lock`);
      let lastUsed: number;
      try {
        lastUsed = statSync(join(dir, META)).mtimeMs;
      } catch {
        lastUsed = statSync(dir).mtimeMs;
      }
      try {
        const meta = readEntryMeta(dir);
        const bytes = Object.values(meta.files).reduce((a, b) => a + b, 0) + pathBytes(join(dir, META));
        out.push({ stage, key: d.name, dir, bytes, createdAt: meta.createdAt, lastUsed, digests: !!meta.digests, meta, locked });
      } catch (err) {
        out.push({ stage, key: d.name, dir, bytes: pathBytes(dir), lastUsed, digests: false, problem: (err as Error).message, locked });
      }
    }
  }
  return out;
}

/** Damaged entries moved aside and temporaries, with who made them. */
export function listLeftovers(root: string): Leftover[] {
  const out: Leftover[] = [];
  for (const stage of stageDirs(root)) {
    const sdir = join(root, stage);
    for (const name of readdirSync(sdir)) {
      const path = join(sdir, name);
      if (name.endsWith(CHECKPOINT_SUFFIX)) {
        const entry = path.slice(0, -CHECKPOINT_SUFFIX.length);
        const mtime = mtimeMs(path);
        if (mtime === undefined) continue;
        out.push({ kind: "checkpoint", stage, path, bytes: pathBytes(path), mtime, locked: existsSync(`${entry}.lock`), obsolete: existsSync(join(entry, META)) });
        continue;
      }
      const aside = name.indexOf(DAMAGED_MARK);
      const owner = aside >= 0 ? /^(.+)-(\d+)-\d+$/.exec(name.slice(aside + DAMAGED_MARK.length)) : undefined;
      const temp = aside < 0 ? temporaryOwner(name) : undefined;
      if (aside < 0 && !temp) continue;
      const mtime = mtimeMs(path);
      if (mtime === undefined) continue;
      const who = temp ?? (owner ? { host: owner[1], pid: Number(owner[2]) } : {});
      out.push({ kind: aside >= 0 ? "damaged" : "temporary", stage, path, bytes: pathBytes(path), mtime, ...who });
    }
  }
  return out;
}

function mtimeMs(path: string): number | undefined {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return undefined; // removed meanwhile
  }
}

/** Whether a temporary belongs to a live process of this machine (another machine's: unknown, so treated as live). */
export function temporaryLive(t: Leftover, pidAlive: (pid: number) => boolean): boolean {
  if (t.host !== HOST_TAG || t.pid === undefined) return true;
  return pidAlive(t.pid);
}
