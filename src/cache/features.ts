import { closeSync, fstatSync, openSync, writeSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { CacheDamagedError } from "./damage";
import { blockChecker, parallelCheckFrom } from "./block-check";
import { BLOCK_BYTES, readFull, type FileDigest } from "./digest";
import { readEntryMeta } from "./store";

/**
 * Feature matrices on disk: raw little-endian float32 rows, written as they are computed so
 * memory stays flat however many images there are. The row width lives in the stage's index.
 */
export class FeatureWriter {
  private fd: number;
  rows = 0;

  constructor(readonly path: string, readonly width: number) {
    this.fd = openSync(path, "w");
  }

  append(rows: Float32Array): void {
    if (rows.length % this.width !== 0) throw new Error(`feature rows of width ${this.width} expected, got ${rows.length} values`);
    writeSync(this.fd, new Uint8Array(rows.buffer, rows.byteOffset, rows.byteLength));
    this.rows += rows.length / this.width;
  }

  close(): void {
    closeSync(this.fd);
  }
}

/**
 * Read a feature file of a committed cache entry (`<root>/<stage>/<key>/<file>`), checking each
 * block against the digests recorded at commit as it is read: a large feature file is not hashed
 * at lookup, so this is where a flipped byte in it is found. A mismatch, a wrong size or a
 * missing file throws CacheDamagedError naming the entry, which the executor repairs. An entry
 * recorded before digests is read unchecked.
 */
export function readFeatures(entryDir: string, file: string, width: number): Float32Array {
  const damaged = (detail: string): CacheDamagedError => new CacheDamagedError(basename(dirname(entryDir)), basename(entryDir), entryDir, file, detail);
  let expected: { size: number; digest?: FileDigest; blockBytes: number };
  try {
    const meta = readEntryMeta(entryDir);
    expected = { size: meta.files[file] ?? -1, digest: meta.digests?.[file], blockBytes: meta.block_bytes ?? BLOCK_BYTES };
  } catch (err) {
    throw damaged((err as Error).message);
  }
  let fd: number;
  try {
    fd = openSync(join(entryDir, file), "r");
  } catch {
    throw damaged("the file is missing");
  }
  try {
    const size = fstatSync(fd).size;
    if (size !== expected.size) throw damaged(expected.size < 0 ? "not in the entry's record" : `${size} bytes, expected ${expected.size}`);
    if (size % (width * 4) !== 0) throw new Error(`${file} does not hold whole rows of ${width} floats`);
    const { digest, blockBytes } = expected;
    const blocks = digest ? (digest.blocks ?? [digest.sha256]) : undefined;
    // shared memory lets a worker thread hash each block while the next is read
    const out = new Float32Array(blocks && size >= parallelCheckFrom() ? new SharedArrayBuffer(size) : new ArrayBuffer(size));
    const bytes = new Uint8Array(out.buffer);
    const check = blocks && blockChecker(bytes, blockBytes, blocks);
    for (let pos = 0, i = 0; pos < size; pos += blockBytes, i++) {
      const n = Math.min(blockBytes, size - pos);
      if (readFull(fd, bytes, n, pos, pos) !== n) {
        check?.finish();
        throw damaged("shorter than its record");
      }
      check?.blockRead(i);
    }
    const bad = check ? check.finish() : -1;
    if (bad >= 0) throw damaged(`block ${bad + 1} of ${blocks!.length} does not match its digest`);
    return out;
  } finally {
    closeSync(fd);
  }
}
