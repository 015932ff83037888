import { readSync } from "node:fs";

/** A file of fixed-width float32 rows ended before a row that was asked for. */
export class ShortReadError extends Error {}

/**
 * Gather rows `idx` (in that order, repeats allowed) of a file of fixed-width float32 rows into
 * one array, `count` values from value `from` of each row. Training reads a batch at a time this
 * way instead of holding the file in memory, so memory stays flat however long the file is; the
 * page cache keeps a file that fits in RAM as fast as an array. Runs of consecutive whole rows
 * are read in one call.
 */
export function readRows(fd: number, idx: readonly number[], rowValues: number, from = 0, count = rowValues): Float32Array {
  const out = new Float32Array(idx.length * count);
  const bytes = new Uint8Array(out.buffer);
  const whole = from === 0 && count === rowValues;
  for (let i = 0; i < idx.length; ) {
    let run = 1;
    if (whole) while (i + run < idx.length && idx[i + run] === idx[i]! + run) run++;
    readAll(fd, bytes, i * count * 4, run * count * 4, (idx[i]! * rowValues + from) * 4);
    i += run;
  }
  return out;
}

function readAll(fd: number, into: Uint8Array, offset: number, length: number, position: number): void {
  for (let got = 0; got < length; ) {
    const n = readSync(fd, into, offset + got, length - got, position + got);
    if (n === 0) throw new ShortReadError(`the file ends at byte ${position + got}, before the ${length} bytes asked for at ${position}`);
    got += n;
  }
}
