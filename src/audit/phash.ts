/**
 * A 64-bit DCT perceptual hash (pHash) of RGBA pixels, and the Hamming distance between two.
 * The picture is flattened onto white (as the decoder does: transparent emoji keep their
 * outline), reduced to 32×32 luma by area averaging (so a 2× larger copy averages to the same
 * grid), transformed by a 2-D DCT-II, and the 64 lowest frequencies after the DC term (in order of
 * u + v, the zig-zag's diagonals) are compared with their median: one bit each. Re-encoding
 * and resizing move few of these bits; a different picture moves about half.
 */

const N = 32;
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
  const grid = lumaGrid(rgba, width, height);
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
  return [hi >>> 0, lo >>> 0];
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

/** ITU-R 601 luma over white, area-averaged to N × N (fractional edges weighted by overlap). */
function lumaGrid(rgba: Uint8Array, width: number, height: number): Float64Array {
  const luma = new Float64Array(width * height);
  for (let i = 0, p = 0; i < luma.length; i++, p += 4) {
    const a = rgba[p + 3]! / 255;
    const y = 0.299 * rgba[p]! + 0.587 * rgba[p + 1]! + 0.114 * rgba[p + 2]!;
    luma[i] = y * a + 255 * (1 - a);
  }
  return boxReduce(luma, width, height, N);
}

/** Area-average a width × height plane to cells × cells. */
function boxReduce(plane: Float64Array, width: number, height: number, cells: number): Float64Array {
  const xs = boxWeights(width, cells);
  const ys = boxWeights(height, cells);
  const rows = new Float64Array(height * cells); // each source row reduced to `cells` columns
  for (let r = 0; r < height; r++) {
    for (let o = 0; o < cells; o++) {
      let s = 0;
      for (const [src, w] of xs[o]!) s += plane[r * width + src]! * w;
      rows[r * cells + o] = s;
    }
  }
  const grid = new Float64Array(cells * cells);
  for (let o = 0; o < cells; o++) {
    for (let x = 0; x < cells; x++) {
      let s = 0;
      for (const [src, w] of ys[o]!) s += rows[src * cells + x]! * w;
      grid[o * cells + x] = s;
    }
  }
  return grid;
}

const COLOUR_CELLS = 4;

/**
 * A 4×4 RGB thumbnail over white, as hex (48 bytes): the luma hash cannot tell apart two
 * pictures with the same layout in other colours (two tricolour flags, an emoji in two skin
 * tones), and a re-encoded or resized copy keeps these 48 averages within a few levels.
 */
export function colourRgba(rgba: Uint8Array, width: number, height: number): string {
  return Buffer.from(rgbGrid(rgba, width, height, COLOUR_CELLS)).toString("hex");
}

/**
 * The verification thumbnail: `side`×`side` RGB over white, base64 (side 16: 768 bytes, 1,024
 * characters an image, about 100 MB at 100k images). Fine enough to undo a crop of a few percent
 * (`aligned-match.ts`); coarse enough that a re-encode moves it by a level or two.
 */
export function thumbRgba(rgba: Uint8Array, width: number, height: number, side: number): string {
  return Buffer.from(rgbGrid(rgba, width, height, side)).toString("base64");
}

/** RGB over white, area-averaged to cells × cells, row-major, 3 bytes a cell. */
function rgbGrid(rgba: Uint8Array, width: number, height: number, cells: number): Uint8Array {
  const out = new Uint8Array(cells * cells * 3);
  const plane = new Float64Array(width * height);
  for (let ch = 0; ch < 3; ch++) {
    for (let i = 0, p = 0; i < plane.length; i++, p += 4) {
      const a = rgba[p + 3]! / 255;
      plane[i] = rgba[p + ch]! * a + 255 * (1 - a);
    }
    boxReduce(plane, width, height, cells).forEach((v, i) => (out[i * 3 + ch] = Math.round(v)));
  }
  return out;
}

/** Mean absolute difference of two colour thumbnails, in levels (0–255). */
export function colourDistance(a: string, b: string): number {
  const x = Buffer.from(a, "hex");
  const y = Buffer.from(b, "hex");
  let s = 0;
  for (let i = 0; i < x.length; i++) s += Math.abs(x[i]! - y[i]!);
  return s / Math.max(1, x.length);
}

/** For each of `cells` output cells, the source indices it covers and their weights (summing to 1). */
function boxWeights(n: number, cells: number): Array<Array<[number, number]>> {
  const out: Array<Array<[number, number]>> = [];
  const step = n / cells;
  for (let o = 0; o < cells; o++) {
    const from = o * step;
    const to = (o + 1) * step;
    const cell: Array<[number, number]> = [];
    for (let s = Math.floor(from); s < Math.min(n, Math.ceil(to)); s++) {
      const w = Math.min(to, s + 1) - Math.max(from, s);
      if (w > 1e-12) cell.push([s, w / step]);
    }
    out.push(cell);
  }
  return out;
}
