import { dctHash } from "../../src/audit/phash";

/**
 * The audit's pixel reductions as they were before the one-pass rewrite (src/audit/phash.ts at
 * c30bac4), kept verbatim as the reference the rewrite is checked against
 * (`pixel-signature.test.ts`) and timed against (`bench/signature-bench.ts`): one full-resolution
 * float plane per luma or colour channel, each box-reduced on its own. The hash's DCT, which the
 * rewrite left alone, is the project's own (`dctHash`, with its coefficients and median, so a test
 * can tell a bit that flipped on float noise from a real difference).
 */

const N = 32;

/** The old phashRgba, with its coefficients: the old luma reduction, then the DCT. */
export function referencePhash(rgba: Uint8Array, width: number, height: number): ReturnType<typeof dctHash> {
  return dctHash(lumaGrid(rgba, width, height));
}

function lumaGrid(rgba: Uint8Array, width: number, height: number): Float64Array {
  const luma = new Float64Array(width * height);
  for (let i = 0, p = 0; i < luma.length; i++, p += 4) {
    const a = rgba[p + 3]! / 255;
    const y = 0.299 * rgba[p]! + 0.587 * rgba[p + 1]! + 0.114 * rgba[p + 2]!;
    luma[i] = y * a + 255 * (1 - a);
  }
  return boxReduce(luma, width, height, N);
}

function boxReduce(plane: Float64Array, width: number, height: number, cells: number): Float64Array {
  const xs = boxWeights(width, cells);
  const ys = boxWeights(height, cells);
  const rows = new Float64Array(height * cells);
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

/** The old colourRgba (4×4, hex). */
export function referenceColour(rgba: Uint8Array, width: number, height: number): string {
  return Buffer.from(rgbGrid(rgba, width, height, 4)).toString("hex");
}

/** The old thumbRgba (side × side, base64). */
export function referenceThumb(rgba: Uint8Array, width: number, height: number, side: number): string {
  return Buffer.from(rgbGrid(rgba, width, height, side)).toString("base64");
}

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

/** The old 32×32 luma grid, before the DCT (unrounded). */
export function referenceLuma(rgba: Uint8Array, width: number, height: number): Float64Array {
  return lumaGrid(rgba, width, height);
}

/** The old unrounded RGB averages, one `cells` × `cells` plane per channel, as `rgbGrid` made them before rounding. */
export function referenceRgbPlanes(rgba: Uint8Array, width: number, height: number, cells: number): Float64Array[] {
  const plane = new Float64Array(width * height);
  return [0, 1, 2].map((ch) => {
    for (let i = 0, p = 0; i < plane.length; i++, p += 4) {
      const a = rgba[p + 3]! / 255;
      plane[i] = rgba[p + ch]! * a + 255 * (1 - a);
    }
    return boxReduce(plane, width, height, cells);
  });
}
