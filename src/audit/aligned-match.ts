/**
 * The verification of a candidate pair: are two thumbnails the same picture, up to a small crop,
 * a resize and a re-encode? The hash and the features only say two pictures LOOK alike (a flag of
 * one layout in other colours, one person emoji in two variants); a copy also matches pixel for
 * pixel once the crop is undone. So one thumbnail is compared with every small crop of the other
 * (both ways round: either may be the copy), each resampled to the same grid, and the best mean
 * absolute difference is the pair's error, in levels (0–255).
 */

/** Side of the colour thumbnail the signature stores (RGB, so 3·SIDE² bytes an image). */
export const THUMB_SIDE = 16;

/** The kept share of each side tried, and the step of the offsets: crops of 0–8% of the side, placed anywhere, to 1% of the side. */
const SCALES = [1, 0.98, 0.96, 0.94, 0.92];
const STEP = 0.01;
/** The aligned difference is averaged over blocks of POOL × POOL cells before its absolute value. */
const POOL = 2;

/** One axis of one crop: for each output cell, the two source cells and the weight of the second. */
interface AxisMap { lo: Int32Array; hi: Int32Array; w: Float32Array }

/** Every crop tried, as one map per axis (square crops: the same scale on both axes, offsets independent). */
const CROPS: Array<{ scale: number; offsets: AxisMap[] }> = SCALES.map((scale) => {
  const offsets: AxisMap[] = [];
  const room = 1 - scale;
  for (let k = 0; k * STEP <= room + 1e-9; k++) offsets.push(axisMap(k * STEP, scale));
  return { scale, offsets };
});

function axisMap(from: number, scale: number): AxisMap {
  const m = { lo: new Int32Array(THUMB_SIDE), hi: new Int32Array(THUMB_SIDE), w: new Float32Array(THUMB_SIDE) };
  for (let i = 0; i < THUMB_SIDE; i++) {
    const x = Math.min(THUMB_SIDE - 1, Math.max(0, (from + (scale * (i + 0.5)) / THUMB_SIDE) * THUMB_SIDE - 0.5));
    m.lo[i] = Math.floor(x);
    m.hi[i] = Math.min(THUMB_SIDE - 1, m.lo[i]! + 1);
    m.w[i] = x - m.lo[i]!;
  }
  return m;
}

/** How far to search: stop at the first crop within `stopAt`; drop a crop once it is sure to exceed `giveUpAbove`. */
export interface AlignedSearch { stopAt?: number; giveUpAbove?: number; pool?: number }

/**
 * The smallest mean absolute difference (levels) between `copy` and a crop of `original`
 * resampled to the thumbnail's grid, over the crops tried, the difference averaged over
 * pool × pool blocks first (a shift of a fraction of a cell smears a sharp edge over two cells;
 * the block average forgives that, a differently drawn region it does not). The sum of a crop is
 * abandoned as soon as it exceeds the best so far or `giveUpAbove`: a look-alike costs a band
 * or two of each crop rather than all of it. Infinity when no crop is within `giveUpAbove`.
 */
function bestCropError(original: Uint8Array, copy: Uint8Array, o: Required<AlignedSearch>): number {
  const side = THUMB_SIDE;
  const { pool } = o;
  const total = side * side * 3;
  const rows = new Float32Array(side * side * 3); // original resampled along x, for one x offset
  const band = new Float32Array(pool * side * 3); // one band of pool rows of the crop, minus the copy
  let best = Infinity;
  for (const { offsets } of CROPS) {
    for (const mx of offsets) {
      for (let y = 0; y < side; y++) {
        for (let i = 0; i < side; i++) {
          const a = (y * side + mx.lo[i]!) * 3;
          const b = (y * side + mx.hi[i]!) * 3;
          const w = mx.w[i]!;
          const at = (y * side + i) * 3;
          for (let c = 0; c < 3; c++) rows[at + c] = original[a + c]! * (1 - w) + original[b + c]! * w;
        }
      }
      for (const my of offsets) {
        const cutoff = Math.min(best, o.giveUpAbove) * total;
        let s = 0;
        for (let j0 = 0; j0 < side && s <= cutoff; j0 += pool) {
          for (let j = j0; j < j0 + pool; j++) {
            const r0 = my.lo[j]! * side * 3;
            const r1 = my.hi[j]! * side * 3;
            const w = my.w[j]!;
            const from = j * side * 3;
            const to = (j - j0) * side * 3;
            for (let k = 0; k < side * 3; k++) band[to + k] = rows[r0 + k]! * (1 - w) + rows[r1 + k]! * w - copy[from + k]!;
          }
          for (let bx = 0; bx < side; bx += pool) for (let c = 0; c < 3; c++) {
            let d = 0;
            for (let y = 0; y < pool; y++) for (let x = bx; x < bx + pool; x++) d += band[(y * side + x) * 3 + c]!;
            s += Math.abs(d);
          }
        }
        if (s > cutoff) continue;
        best = s / total;
        if (best <= o.stopAt) return best;
      }
    }
  }
  return best;
}

/**
 * The aligned error of two thumbnails (levels, 0–255): the best match of either as a crop of the
 * other (Infinity when the sizes differ). With `stopAt` and `giveUpAbove` both set to a
 * threshold, the answer is exact only as far as the verdict needs: at most the threshold, or above it.
 */
export function alignedError(a: Uint8Array, b: Uint8Array, opts: AlignedSearch = {}): number {
  if (a.length !== 3 * THUMB_SIDE * THUMB_SIDE || b.length !== a.length) return Infinity;
  const o = { stopAt: opts.stopAt ?? -1, giveUpAbove: opts.giveUpAbove ?? Infinity, pool: opts.pool ?? POOL };
  const ab = bestCropError(a, b, o);
  return ab <= o.stopAt ? ab : Math.min(ab, bestCropError(b, a, o));
}
