import { closeSync, openSync, readFileSync, writeSync } from "node:fs";

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

/** Read a feature file written by FeatureWriter; checks that it holds whole rows. */
export function readFeatures(path: string, width: number): Float32Array {
  const buf = readFileSync(path);
  if (buf.byteLength % (width * 4) !== 0) throw new Error(`${path} does not hold whole rows of ${width} floats`);
  const copy = new Float32Array(buf.byteLength / 4);
  new Uint8Array(copy.buffer).set(buf);
  return copy;
}
