import { closeSync, fstatSync, openSync, writeSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { CacheDamagedError } from "./damage";
import { BLOCK_BYTES, readFull, type FileDigest } from "./digest";
import { readEntryMeta } from "./store";
import { sha256 } from "../util/hash";
import { readRows, ShortReadError } from "../util/rows";

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
 * A feature file of a committed cache entry (`<root>/<stage>/<key>/<file>`), open for reading
 * rows in any order, a batch at a time, so a reader's memory does not grow with the file.
 *
 * `open` reads the file once, block by block through one block-sized buffer, and checks each
 * block against the digests recorded at commit: a large feature file is not hashed at lookup, so
 * this is where a flipped byte in it is found, before the reader uses any of it. A mismatch, a
 * wrong size or a missing file throws CacheDamagedError naming the entry, which the executor
 * repairs. An entry recorded before digests is read unchecked. The file stays open, so the rows
 * read later are those checked even if the entry is moved aside meanwhile.
 */
export class FeatureFile {
  private constructor(
    private fd: number,
    /** Values per row. */
    readonly width: number,
    readonly rows: number,
    private readonly damaged: (detail: string) => CacheDamagedError,
  ) {}

  static open(entryDir: string, file: string, width: number): FeatureFile {
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
      if (digest) checkBlocks(fd, size, blockBytes, digest.blocks ?? [digest.sha256], damaged);
      return new FeatureFile(fd, width, size / (width * 4), damaged);
    } catch (err) {
      closeSync(fd);
      throw err;
    }
  }

  /** Rows `idx` (repeats allowed), `count` values from value `from` of each: idx.length × count values. */
  read(idx: readonly number[], from = 0, count = this.width): Float32Array {
    const bad = idx.find((r) => !(r >= 0 && r < this.rows));
    if (bad !== undefined) throw new Error(`row ${bad} asked of a feature file of ${this.rows} rows`);
    try {
      return readRows(this.fd, idx, this.width, from, count);
    } catch (err) {
      throw err instanceof ShortReadError ? this.damaged("shorter than its record") : err;
    }
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }
}

/** Read the whole file through one block-sized buffer, hashing each block against its digest. */
function checkBlocks(fd: number, size: number, blockBytes: number, blocks: readonly string[], damaged: (detail: string) => CacheDamagedError): void {
  const buf = new Uint8Array(Math.min(blockBytes, Math.max(size, 1)));
  for (let pos = 0, i = 0; pos < size; pos += blockBytes, i++) {
    const n = Math.min(blockBytes, size - pos);
    if (readFull(fd, buf, n, pos) !== n) throw damaged("shorter than its record");
    if (sha256(buf.subarray(0, n)) !== blocks[i]) throw damaged(`block ${i + 1} of ${blocks.length} does not match its digest`);
  }
}
