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

/**
 * The smallest mean absolute difference (levels) between `copy` and a crop of `original`
 * resampled to the thumbnail's grid, over the crops tried; Infinity when the sizes differ.
 */
function bestCropError(original: Uint8Array, copy: Uint8Array, stopBelow: number, pool: number): number {
  const side = THUMB_SIDE;
  const rows = new Float32Array(side * side * 3); // original resampled along x, for one x offset
  const crop = new Float32Array(side * side * 3); // the crop resampled, minus the copy
  let best = Infinity;
  for (const { offsets } of CROPS) {
    for (const mx of offsets) {
      for (let y = 0; y < side; y++) {
        for (let i = 0; i < side; i++) {
          const a = (y * side + mx.lo[i]!) * 3;
          const b = (y * side + mx.hi[i]!) * 3;
          const w = mx.w[i]!;
          const o = (y * side + i) * 3;
          for (let c = 0; c < 3; c++) rows[o + c] = original[a + c]! * (1 - w) + original[b + c]! * w;
        }
      }
      for (const my of offsets) {
        for (let j = 0; j < side; j++) {
          const r0 = my.lo[j]! * side * 3;
          const r1 = my.hi[j]! * side * 3;
          const w = my.w[j]!;
          const o = j * side * 3;
          for (let k = 0; k < side * 3; k++) crop[o + k] = rows[r0 + k]! * (1 - w) + rows[r1 + k]! * w - copy[o + k]!;
        }
        const err = blockError(crop, pool);
        if (err < best) best = err;
        if (best <= stopBelow) return best;
      }
    }
  }
  return best;
}

/**
 * The aligned error of two thumbnails (levels, 0–255): the best match of either as a crop of the
 * other. Stops early once an error at or below `stopBelow` is seen (the verdict is then known).
 */
export function alignedError(a: Uint8Array, b: Uint8Array, stopBelow = 0, pool = POOL): number {
  if (a.length !== 3 * THUMB_SIDE * THUMB_SIDE || b.length !== a.length) return Infinity;
  const ab = bestCropError(a, b, stopBelow, pool);
  return ab <= stopBelow ? ab : Math.min(ab, bestCropError(b, a, stopBelow, pool));
}

/** Mean absolute value of `diff` (side × side × 3) after averaging each pool × pool block. */
function blockError(diff: Float32Array, pool: number): number {
  const side = THUMB_SIDE;
  const cells = side / pool;
  let s = 0;
  for (let by = 0; by < cells; by++) for (let bx = 0; bx < cells; bx++) for (let c = 0; c < 3; c++) {
    let d = 0;
    for (let y = by * pool; y < (by + 1) * pool; y++) for (let x = bx * pool; x < (bx + 1) * pool; x++) d += diff[(y * side + x) * 3 + c]!;
    s += Math.abs(d);
  }
  return s / (side * side * 3);
}
