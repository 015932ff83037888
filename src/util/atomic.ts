import { closeSync, fsyncSync, openSync, renameSync, writeSync, mkdirSync, rmSync } from "node:fs";
import { dirname } from "node:path";

let counter = 0;

/** A temporary path beside `path`, unique to this process, on the same filesystem. */
export function tempPathFor(path: string): string {
  return `${path}.tmp-${process.pid}-${Date.now()}-${counter++}`;
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

/** Replace folder `dest` with the fully written folder `tmpDir` in one rename. */
export function commitDir(tmpDir: string, dest: string): void {
  mkdirSync(dirname(dest), { recursive: true });
  rmSync(dest, { recursive: true, force: true });
  renameSync(tmpDir, dest);
}
