/**
 * Area-averaging weights for reducing `n` source pixels to `cells` output cells, flattened into
 * typed arrays (cell o covers entries start[o] .. start[o + 1] - 1 of src and w) so the per-pixel
 * loops of `pixel-grids.ts` index numbers instead of walking arrays of tuples.
 */
export interface BoxWeights {
  start: Int32Array;
  src: Int32Array;
  w: Float64Array;
}

/** Cell o covers [o·n/cells, (o+1)·n/cells); each source pixel weighs its overlap, the weights of a cell sum to 1. */
export function boxWeights(n: number, cells: number): BoxWeights {
  const step = n / cells;
  const src: number[] = [];
  const w: number[] = [];
  const start = new Int32Array(cells + 1);
  for (let o = 0; o < cells; o++) {
    const from = o * step;
    const to = (o + 1) * step;
    for (let s = Math.floor(from); s < Math.min(n, Math.ceil(to)); s++) {
      const overlap = Math.min(to, s + 1) - Math.max(from, s);
      // slivers of float error at a cell's edge are not overlaps
      if (overlap > 1e-12) src.push(s), w.push(overlap / step);
    }
    start[o + 1] = src.length;
  }
  return { start, src: Int32Array.from(src), w: Float64Array.from(w) };
}
