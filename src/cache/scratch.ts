import { mkdirSync, readdirSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { TlrunError } from "../errors";
import { HOST_TAG, tempPathFor, temporaryOwner } from "../util/atomic";
import { pathBytes, temporaryLive, type Leftover } from "./inventory";
import { pidAlive } from "../util/pid";

/**
 * The scratch folder's name under the runs folder, beside `.cache`: fine-tune's frozen
 * activations run to gigabytes (17 GB at 100k images and 224 px), and the system temp folder is
 * often in RAM (tmpfs), so they go on the disk that holds the cache unless runtime.scratch_dir
 * says otherwise.
 */
export const SCRATCH_FOLDER = ".scratch";

/**
 * A new folder under `root` for this process's scratch files, named like the cache's
 * temporaries (`<what>.tmp-<host>-<pid>-<ms>-<n>`): a later run tells from the name whether its
 * owner still runs, and sweeps it when not.
 */
export function makeScratch(root: string, what: string): string {
  const dir = tempPathFor(join(root, what));
  try {
    mkdirSync(root, { recursive: true });
    mkdirSync(dir);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new TlrunError(`cannot make a scratch folder in ${root}: ${e.code ?? e.message}; set runtime.scratch_dir to a writable folder on a disk with room`, 1);
  }
  return dir;
}

/** The scratch folders under `root`, with who made them, as leftovers for `tlrun cache ls` and `gc`. */
export function listScratch(root: string): Leftover[] {
  let names: string[];
  try {
    names = readdirSync(root);
  } catch {
    return []; // absent, or not a folder: nothing of ours (a run that needs it says why)
  }
  const out: Leftover[] = [];
  for (const name of names) {
    const owner = temporaryOwner(name);
    if (!owner) continue; // not ours: never touched
    const path = join(root, name);
    let mtime: number;
    try {
      mtime = statSync(path).mtimeMs;
    } catch {
      continue; // removed meanwhile
    }
    out.push({ kind: "scratch", stage: "fine-tune", path, bytes: pathBytes(path), mtime, ...owner });
  }
  return out;
}

/**
 * Remove the scratch folders under `root` whose owner, a process of this machine, is gone (a run
 * killed with -9, or a crash before its cleanup). Another machine's are never touched: its
 * process ids mean nothing here, and it may be writing them right now. Returns what it removed.
 */
export function sweepScratch(root: string, alive: (pid: number) => boolean = pidAlive): { removed: string[]; bytes: number } {
  const removed: string[] = [];
  let bytes = 0;
  for (const s of listScratch(root)) {
    if (s.host !== HOST_TAG || temporaryLive(s, alive)) continue;
    rmSync(s.path, { recursive: true, force: true });
    removed.push(s.path);
    bytes += s.bytes;
  }
  return { removed, bytes };
}
