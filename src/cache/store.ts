import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync } from "node:fs";
import { join } from "node:path";
import { FileLock, lockStaleMs, type LockOptions } from "../util/lock";
import { sweepClaims } from "../util/lock-claim";
import { HOST_TAG, commitDir, tempPathFor, temporaryOwner, writeFileAtomic } from "../util/atomic";
import { BLOCK_BYTES, digestFile, digestMismatch, isFeatureFile, metaSelfDigest, smallFileBytes, type FileDigest } from "./digest";
import { pidAlive } from "../util/pid";

/** What a committed cache entry records about itself; written last, so its presence means complete. */
export interface EntryMeta {
  stage: string;
  key: string;
  /** Identity of the output that downstream stages hash (the key itself unless the stage says otherwise). */
  digest: string;
  createdAt: string;
  seconds: number;
  /** Files in the entry with their sizes, checked on every hit. */
  files: Record<string, number>;
  /** Stage-specific small results (metrics, counts) kept with the entry. */
  info: Record<string, unknown>;
  /**
   * Each file's content digest (see digest.ts), checked on every hit for small files and as
   * they are read for large feature files. Absent in entries recorded before digests, which are
   * still accepted on their sizes.
   */
  digests?: Record<string, FileDigest>;
  /** Block size of the digests' `blocks`. */
  block_bytes?: number;
  /** sha256 of this record without this field, so a changed value in meta.json is caught too. */
  meta_sha256?: string;
}

export type Lookup =
  | { hit: true; dir: string; meta: EntryMeta }
  | { hit: false; warning?: string };

export const META = "meta.json";

/** Where a damaged entry was moved: beside the entries, for `tlrun cache gc` to delete. */
export const DAMAGED_MARK = ".damaged-";
/** A training stage's checkpoint folder is its entry's path with this suffix. */
export const CHECKPOINT_SUFFIX = ".ckpt";

/**
 * Read and check an entry's meta.json: valid JSON that matches its own digest (when it has one).
 * Throws a plain Error saying what is wrong.
 */
export function readEntryMeta(dir: string): EntryMeta {
  let raw: EntryMeta;
  try {
    raw = JSON.parse(readFileSync(join(dir, META), "utf8")) as EntryMeta;
  } catch (err) {
    throw new Error((err as NodeJS.ErrnoException).code === "ENOENT" ? "meta.json is missing" : "meta.json is not valid JSON");
  }
  if (!raw || typeof raw !== "object" || typeof raw.files !== "object" || raw.files === null) throw new Error("meta.json has no file list");
  if (raw.meta_sha256 !== undefined && metaSelfDigest(raw as unknown as Record<string, unknown>) !== raw.meta_sha256)
    throw new Error("meta.json does not match its own digest");
  return raw;
}

/** Whether a file is left to its reader's block checks instead of being hashed at lookup. */
export function streamedFile(file: string, size: number, small = smallFileBytes()): boolean {
  return isFeatureFile(file) && size > small;
}

/**
 * Check an entry's files against its record: sizes always; digests of every file except large
 * feature files (`streamed`), or of all of them with `full`. Returns what is wrong, or undefined.
 */
export function checkEntryFiles(dir: string, meta: EntryMeta, full: boolean, small = smallFileBytes()): string | undefined {
  for (const [file, size] of Object.entries(meta.files)) {
    let actual: number;
    try {
      actual = statSync(join(dir, file)).size;
    } catch {
      return `${file} is missing`;
    }
    if (actual !== size) return `${file} is ${actual} bytes, expected ${size}`;
  }
  if (!meta.digests) return undefined;
  for (const [file, size] of Object.entries(meta.files)) {
    const expected = meta.digests[file];
    if (!expected) return `${file} has no recorded digest`;
    if (!full && streamedFile(file, size, small)) continue;
    const wrong = digestMismatch(join(dir, file), expected, meta.block_bytes ?? BLOCK_BYTES);
    if (wrong) return `${file}: ${wrong}`;
  }
  return undefined;
}

/**
 * A content-addressed store of stage outputs: `<root>/<stage>/<key>/`. An entry is written in a
 * temporary folder and renamed into place, so a crash leaves either nothing or a whole entry.
 */
export class StageCache {
  /** Files up to this size are hashed on every lookup. */
  readonly small: number;
  private readonly blockBytes: number;

  constructor(readonly root: string, opts: { smallFileBytes?: number; blockBytes?: number } = {}) {
    this.small = opts.smallFileBytes ?? smallFileBytes();
    this.blockBytes = opts.blockBytes ?? BLOCK_BYTES;
  }

  entryDir(stage: string, key: string): string {
    return join(this.root, stage, key);
  }

  /**
   * Where a training stage keeps its end-of-epoch checkpoint while it computes the entry
   * `<stage>/<key>`: beside it, so only a run of the same key finds it. The entry's lock
   * covers it; its temporaries are swept like the entry's.
   */
  checkpointDir(stage: string, key: string): string {
    return `${this.entryDir(stage, key)}${CHECKPOINT_SUFFIX}`;
  }

  /** Look up an entry; a damaged one is reported as a miss with a warning, never thrown. */
  lookup(stage: string, key: string): Lookup {
    const dir = this.entryDir(stage, key);
    if (!existsSync(dir)) return { hit: false };
    try {
      const meta = readEntryMeta(dir);
      if (meta.key !== key || meta.stage !== stage) throw new Error("meta.json names another entry");
      const wrong = checkEntryFiles(dir, meta, false, this.small);
      if (wrong) throw new Error(wrong);
      return { hit: true, dir, meta };
    } catch (err) {
      return { hit: false, warning: `cache entry ${stage}/${key.slice(0, 12)} is damaged (${(err as Error).message}); recomputing` };
    }
  }

  /** A fresh folder to write an entry into; pass it to `commit` when every file is written. */
  begin(stage: string, key: string): string {
    const tmp = tempPathFor(this.entryDir(stage, key));
    mkdirSync(tmp, { recursive: true });
    return tmp;
  }

  /** Record the entry's files with their sizes and digests, and move it into place in one rename. */
  commit(tmp: string, meta: Omit<EntryMeta, "files" | "createdAt" | "digests" | "block_bytes" | "meta_sha256">): EntryMeta {
    const files: Record<string, number> = {};
    const digests: Record<string, FileDigest> = {};
    const walk = (dir: string, prefix: string): void => {
      for (const name of readdirSync(dir).sort()) {
        const p = join(dir, name);
        const rel = prefix ? `${prefix}/${name}` : name;
        if (statSync(p).isDirectory()) walk(p, rel);
        else if (rel !== META) (files[rel] = statSync(p).size), (digests[rel] = digestFile(p, this.blockBytes));
      }
    };
    walk(tmp, "");
    const record: EntryMeta = { ...meta, files, createdAt: new Date().toISOString(), digests, block_bytes: this.blockBytes };
    const full: EntryMeta = { ...record, meta_sha256: metaSelfDigest(record as unknown as Record<string, unknown>) };
    writeFileAtomic(join(tmp, META), JSON.stringify(full, null, 2));
    commitDir(tmp, this.entryDir(meta.stage, meta.key));
    return full;
  }

  /** Note that an entry was used now (meta.json's mtime), for `tlrun cache ls` and `gc`; never fails. */
  markUsed(stage: string, key: string): void {
    const now = new Date();
    try {
      utimesSync(join(this.entryDir(stage, key), META), now, now);
    } catch {
      // a read-only shared cache: last use is only a hint
    }
  }

  /**
   * Move a damaged entry out of the way (`<key>.damaged-<host>-<pid>-<ms>`), so the next lookup
   * misses and nobody reads it again; `tlrun cache gc` deletes it. Only the entry committed as
   * `createdAt` is moved: one another process has recomputed meanwhile stays. Returns where it went.
   */
  moveAside(stage: string, key: string, createdAt?: string): string | undefined {
    const dir = this.entryDir(stage, key);
    if (createdAt !== undefined) {
      try {
        if (readEntryMeta(dir).createdAt !== createdAt) return undefined;
      } catch {
        // unreadable: damaged either way
      }
    }
    const aside = `${dir}${DAMAGED_MARK}${HOST_TAG}-${process.pid}-${Date.now()}`;
    try {
      renameSync(dir, aside);
      return aside;
    } catch {
      return undefined; // gone already
    }
  }

  /** Throw away a folder from `begin` that will not be committed. */
  abandon(tmp: string): void {
    rmSync(tmp, { recursive: true, force: true });
  }

  /** Hold `<stage>/<key>.lock` while computing an entry, so concurrent runs compute it once. */
  lock(stage: string, key: string, opts: LockOptions = {}): Promise<FileLock> {
    return FileLock.acquire(`${this.entryDir(stage, key)}.lock`, opts);
  }

  /**
   * Remove temporary folders left by runs that were killed: this machine's whose process is gone.
   * Another machine sharing the folder may be writing its own right now, so its temporaries (and
   * unattributed ones from before host tags) are removed only once they are a day old. Lock
   * takeover claims go once old and no longer guarding a holding (lock-claim.ts).
   */
  sweepTemporaries(now = Date.now()): number {
    let n = 0;
    if (!existsSync(this.root)) return 0;
    const staleMs = lockStaleMs();
    for (const stage of readdirSync(this.root)) {
      const sdir = join(this.root, stage);
      if (!statSync(sdir).isDirectory()) continue;
      n += sweepClaims(sdir, staleMs, undefined, now);
      for (const name of readdirSync(sdir)) {
        const owner = temporaryOwner(name);
        if (!owner) continue;
        const path = join(sdir, name);
        const abandoned = owner.host === HOST_TAG ? !pidAlive(owner.pid) : now - mtimeOf(path) > FOREIGN_TEMP_MS;
        if (abandoned) {
          rmSync(path, { recursive: true, force: true });
          n++;
        }
      }
    }
    return n;
  }
}

/** How old another machine's temporary must be before it counts as abandoned. */
const FOREIGN_TEMP_MS = 24 * 3600_000;

function mtimeOf(path: string): number {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return Date.now(); // gone already
  }
}
