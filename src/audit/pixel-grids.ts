import { boxWeights } from "./box-weights";

/**
 * The coarse grids the audit's signatures are made of, from one walk over the RGBA pixels. The
 * box filter composes: with cells of equal width, a cell of a `cells/f` grid covers exactly f × f
 * cells of the `cells` grid, so the 16×16 and 4×4 thumbnails are averages of the 32×32 one; and
 * luma is a fixed linear combination of R, G and B (weights summing to 1), so the hash's luma
 * grid is that combination of the RGB grid. Everything composited on white, as the decoder does.
 */

/** Three planes (R, then G, then B) of `cells` × `cells` averages, row-major. */
export type RgbGrid = Float64Array;

/** ALPHA[a] = a / 255 and WHITE[a] = 255 (1 − a/255): the composite over white of v is v · ALPHA + WHITE. */
const ALPHA = Float64Array.from({ length: 256 }, (_, a) => a / 255);
const WHITE = Float64Array.from(ALPHA, (a) => 255 * (1 - a));

/** RGB over white, area-averaged to `cells` × `cells` (fractional edges weighted by their overlap). */
export function rgbGrid(rgba: Uint8Array, width: number, height: number, cells: number): RgbGrid {
  const xs = boxWeights(width, cells);
  const ys = boxWeights(height, cells);
  const { start, src, w } = xs;
  // each source row reduced to `cells` columns per channel: rows[(r * 3 + ch) * cells + o]
  const rows = new Float64Array(height * 3 * cells);
  for (let r = 0; r < height; r++) {
    const line = r * width;
    const out = r * 3 * cells;
    for (let o = 0; o < cells; o++) {
      let sr = 0;
      let sg = 0;
      let sb = 0;
      for (let k = start[o]!, end = start[o + 1]!; k < end; k++) {
        const p = (line + src[k]!) * 4;
        const a = rgba[p + 3]!;
        const al = ALPHA[a]!;
        const wh = WHITE[a]!;
        const wk = w[k]!;
        sr += (rgba[p]! * al + wh) * wk;
        sg += (rgba[p + 1]! * al + wh) * wk;
        sb += (rgba[p + 2]! * al + wh) * wk;
      }
      rows[out + o] = sr;
      rows[out + cells + o] = sg;
      rows[out + 2 * cells + o] = sb;
    }
  }
  const plane = cells * cells;
  const grid = new Float64Array(3 * plane);
  for (let o = 0; o < cells; o++) {
    for (let k = ys.start[o]!, end = ys.start[o + 1]!; k < end; k++) {
      const from = ys.src[k]! * 3 * cells;
      const wk = ys.w[k]!;
      for (let ch = 0; ch < 3; ch++) {
        const g = ch * plane + o * cells;
        const s = from + ch * cells;
        for (let x = 0; x < cells; x++) grid[g + x] += rows[s + x]! * wk;
      }
    }
  }
  return grid;
}

/** ITU-R 601 luma of an RGB grid, `cells` × `cells`. */
export function lumaOf(grid: RgbGrid, cells: number): Float64Array {
  const plane = cells * cells;
  const luma = new Float64Array(plane);
  for (let i = 0; i < plane; i++) luma[i] = 0.299 * grid[i]! + 0.587 * grid[plane + i]! + 0.114 * grid[2 * plane + i]!;
  return luma;
}

/** An RGB grid of `cells` averaged down to `to` × `to` cells (`to` must divide `cells`). */
export function poolGrid(grid: RgbGrid, cells: number, to: number): RgbGrid {
  const f = cells / to;
  if (!Number.isInteger(f)) throw new Error(`poolGrid: ${to} does not divide ${cells}`);
  const out = new Float64Array(3 * to * to);
  const inv = 1 / (f * f);
  for (let ch = 0; ch < 3; ch++) {
    for (let oy = 0; oy < to; oy++) {
      for (let ox = 0; ox < to; ox++) {
        let s = 0;
        for (let y = oy * f; y < (oy + 1) * f; y++) {
          const row = ch * cells * cells + y * cells;
          for (let x = ox * f; x < (ox + 1) * f; x++) s += grid[row + x]!;
        }
        out[ch * to * to + oy * to + ox] = s * inv;
      }
    }
  }
  return out;
}

/** An RGB grid as bytes, row-major, 3 a cell (R, G, B), each rounded to the nearest level. */
export function gridBytes(grid: RgbGrid, cells: number): Uint8Array {
  const plane = cells * cells;
  const out = new Uint8Array(3 * plane);
  for (let i = 0; i < plane; i++) for (let ch = 0; ch < 3; ch++) out[i * 3 + ch] = Math.round(grid[ch * plane + i]!);
  return out;
}
