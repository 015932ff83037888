import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { FileLock, type LockOptions } from "../util/lock";
import { HOST_TAG, commitDir, tempPathFor, temporaryOwner, writeFileAtomic } from "../util/atomic";

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
}

export type Lookup =
  | { hit: true; dir: string; meta: EntryMeta }
  | { hit: false; warning?: string };

const META = "meta.json";

/**
 * A content-addressed store of stage outputs: `<root>/<stage>/<key>/`. An entry is written in a
 * temporary folder and renamed into place, so a crash leaves either nothing or a whole entry.
 */
export class StageCache {
  constructor(readonly root: string) {}

  entryDir(stage: string, key: string): string {
    return join(this.root, stage, key);
  }

  /**
   * Where a training stage keeps its end-of-epoch checkpoint while it computes the entry
   * `<stage>/<key>`: beside it, so only a run of the same key finds it. The entry's lock
   * covers it; its temporaries are swept like the entry's.
   */
  checkpointDir(stage: string, key: string): string {
    return `${this.entryDir(stage, key)}.ckpt`;
  }

  /** Look up an entry; a damaged one is reported as a miss with a warning, never thrown. */
  lookup(stage: string, key: string): Lookup {
    const dir = this.entryDir(stage, key);
    if (!existsSync(dir)) return { hit: false };
    try {
      const meta = JSON.parse(readFileSync(join(dir, META), "utf8")) as EntryMeta;
      if (meta.key !== key || meta.stage !== stage) throw new Error("meta.json names another entry");
      for (const [file, size] of Object.entries(meta.files)) {
        const st = statSync(join(dir, file));
        if (st.size !== size) throw new Error(`${file} is ${st.size} bytes, expected ${size}`);
      }
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

  /** Record the entry's files and move it into place in one rename. */
  commit(tmp: string, meta: Omit<EntryMeta, "files" | "createdAt">): EntryMeta {
    const files: Record<string, number> = {};
    const walk = (dir: string, prefix: string): void => {
      for (const name of readdirSync(dir)) {
        const p = join(dir, name);
        const rel = prefix ? `${prefix}/${name}` : name;
        if (statSync(p).isDirectory()) walk(p, rel);
        else files[rel] = statSync(p).size;
      }
    };
    walk(tmp, "");
    const full: EntryMeta = { ...meta, files, createdAt: new Date().toISOString() };
    writeFileAtomic(join(tmp, META), JSON.stringify(full, null, 2));
    commitDir(tmp, this.entryDir(meta.stage, meta.key));
    return full;
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
   * unattributed ones from before host tags) are removed only once they are a day old.
   */
  sweepTemporaries(now = Date.now()): number {
    let n = 0;
    if (!existsSync(this.root)) return 0;
    for (const stage of readdirSync(this.root)) {
      const sdir = join(this.root, stage);
      if (!statSync(sdir).isDirectory()) continue;
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

function pidAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
