import type { FeatureView } from "./feature-pairs";
import { ColumnSums } from "../util/column-sums";

/**
 * Rows scaled for the audit's linear and neighbour models: each column to zero mean and unit
 * variance over all rows (pooled ReLU features span orders of magnitude between channels, and
 * an unscaled probe is led by the few loud ones), then, with `unit`, each row to unit length so
 * a dot product is a cosine. Returns a new n × cols array.
 */
export function standardise(features: Float32Array, width: number, from: number, cols: number, unit: boolean): Float32Array {
  const n = Math.floor(features.length / width);
  const out = new Float32Array(n * cols);
  scaleRows(features, width, from, cols, unit, out);
  return out;
}

/**
 * `standardise` over whole rows, written over `features` itself: at 100k images of 2,560 values
 * a copy is another gigabyte, so the audit scales its rows in place once nothing needs them raw.
 */
export function standardiseInPlace(features: Float32Array, width: number, unit: boolean): Float32Array {
  scaleRows(features, width, 0, width, unit, features);
  return features;
}

/** The column statistics over every row, then each row scaled into `out` (which may be `features` when the view is the whole row). */
function scaleRows(features: Float32Array, width: number, from: number, cols: number, unit: boolean, out: Float32Array): void {
  const n = Math.floor(features.length / width);
  const sums = new ColumnSums(cols);
  sums.add(features, width, from);
  const mean = sums.sum; // divided by n in place below
  const sq = sums.squares;
  const scale = new Float64Array(cols);
  for (let c = 0; c < cols; c++) {
    mean[c] /= Math.max(1, n);
    const variance = sq[c]! / Math.max(1, n) - mean[c]! * mean[c]!;
    scale[c] = variance > 1e-12 ? 1 / Math.sqrt(variance) : 0; // a constant column carries nothing
  }
  for (let r = 0; r < n; r++) {
    const o = r * width + from;
    let norm = 0;
    for (let c = 0; c < cols; c++) {
      const v = (features[o + c]! - mean[c]!) * scale[c]!;
      out[r * cols + c] = v;
      norm += v * v;
    }
    if (unit && norm > 0) {
      const s = 1 / Math.sqrt(norm);
      for (let c = 0; c < cols; c++) out[r * cols + c]! *= s;
    }
  }
}

/** The chosen columns of every row, scaled to unit length without centring: the cosine the duplicate and neighbour searches use (a near-blank image keeps its small, odd vector, far from all the others). */
export function unitRows(v: FeatureView): Float32Array {
  const inv = inverseNorms(v);
  const out = new Float32Array(inv.length * v.cols);
  for (let r = 0; r < inv.length; r++) for (let c = 0, i = r * v.width + v.from; c < v.cols; c++, i++) out[r * v.cols + c] = v.features[i]! * inv[r]!;
  return out;
}

/** Each row's 1 / length over the chosen columns (0 for a zero row): a cosine from the raw rows without a unit-length copy of them. */
export function inverseNorms(v: FeatureView): Float64Array {
  const n = Math.floor(v.features.length / v.width);
  const out = new Float64Array(n);
  for (let r = 0; r < n; r++) {
    let s = 0;
    for (let c = 0, i = r * v.width + v.from; c < v.cols; c++, i++) s += v.features[i]! * v.features[i]!;
    out[r] = s > 0 ? 1 / Math.sqrt(s) : 0;
  }
  return out;
}
