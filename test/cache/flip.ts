import { closeSync, fstatSync, openSync, readSync, writeSync } from "node:fs";

/** Invert 64 bytes in the middle of a file, leaving its size (and the rest) as it was. */
export function flipMiddle(path: string, at?: number): void {
  const fd = openSync(path, "r+");
  try {
    const size = fstatSync(fd).size;
    const n = Math.min(64, size);
    const pos = at ?? Math.max(0, Math.floor(size / 2) - 32);
    const b = Buffer.alloc(n);
    readSync(fd, b, 0, n, pos);
    for (let i = 0; i < n; i++) b[i] ^= 0xff;
    writeSync(fd, b, 0, n, pos);
  } finally {
    closeSync(fd);
  }
}

