import { lumaOf, rgbGrid } from "./pixel-grids";

/**
 * A 64-bit DCT perceptual hash (pHash) of RGBA pixels, and the Hamming distance between two.
 * The picture is flattened onto white (as the decoder does: transparent emoji keep their
 * outline), reduced to 32×32 luma by area averaging (so a 2× larger copy averages to the same
 * grid), transformed by a 2-D DCT-II, and the 64 lowest frequencies after the DC term (in order of
 * u + v, the zig-zag's diagonals) are compared with their median: one bit each. Re-encoding
 * and resizing move few of these bits; a different picture moves about half.
 */

export const PHASH_GRID = 32;
const N = PHASH_GRID;
/** The 64 (u, v) pairs kept: lowest u + v first, DC excluded. */
const KEPT: Array<[number, number]> = (() => {
  const out: Array<[number, number]> = [];
  for (let s = 1; out.length < 64; s++) for (let u = 0; u <= s && out.length < 64; u++) out.push([u, s - u]);
  return out;
})();
const ROWS = Math.max(...KEPT.map(([u, v]) => Math.max(u, v))) + 1;
/** COS[u * N + x] = cos(π (2x + 1) u / 2N), for the frequencies kept. */
const COS = (() => {
  const c = new Float64Array(ROWS * N);
  for (let u = 0; u < ROWS; u++) for (let x = 0; x < N; x++) c[u * N + x] = Math.cos((Math.PI * (2 * x + 1) * u) / (2 * N));
  return c;
})();

/** The perceptual hash of `rgba` (width × height × 4), as [high 32 bits, low 32 bits]. */
export function phashRgba(rgba: Uint8Array, width: number, height: number): [number, number] {
  return phashOfLuma(lumaOf(rgbGrid(rgba, width, height, N), N));
}

/** The hash of a 32×32 luma grid over white (`pixel-grids.ts`), for callers that have the grid already. */
export function phashOfLuma(grid: Float64Array): [number, number] {
  return dctHash(grid).bits;
}

/**
 * The hash with what it was cut from: the 64 kept DCT coefficients of a 32×32 luma grid, their
 * median, and one bit each for a coefficient above it. The coefficients let a test tell a bit
 * flipped by float noise (a coefficient on the median) from a real difference.
 */
export function dctHash(grid: Float64Array): { bits: [number, number]; coeff: number[]; median: number } {
  // partial 2-D DCT: rows first (ROWS × N), then columns of those (ROWS × ROWS)
  const t = new Float64Array(ROWS * N);
  for (let u = 0; u < ROWS; u++) {
    for (let x = 0; x < N; x++) {
      let s = 0;
      for (let y = 0; y < N; y++) s += COS[u * N + y]! * grid[y * N + x]!;
      t[u * N + x] = s;
    }
  }
  const coeff = KEPT.map(([u, v]) => {
    let s = 0;
    for (let x = 0; x < N; x++) s += t[u * N + x]! * COS[v * N + x]!;
    return s;
  });
  const median = [...coeff].sort((a, b) => a - b).reduce((m, c, i) => (i === 31 || i === 32 ? m + c / 2 : m), 0);
  let hi = 0;
  let lo = 0;
  for (let i = 0; i < 64; i++) {
    if (!(coeff[i]! > median)) continue;
    if (i < 32) hi |= 1 << (31 - i);
    else lo |= 1 << (63 - i);
  }
  return { bits: [hi >>> 0, lo >>> 0], coeff, median };
}

/** Bits that differ between two hashes, 0..64. */
export function hamming(a: readonly [number, number], b: readonly [number, number]): number {
  return popcount32((a[0] ^ b[0]) >>> 0) + popcount32((a[1] ^ b[1]) >>> 0);
}

export function popcount32(x: number): number {
  x = x - ((x >>> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24;
}
