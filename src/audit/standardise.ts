import type { FeatureView } from "./feature-pairs";

/**
 * Rows scaled for the audit's linear and neighbour models: each column to zero mean and unit
 * variance over all rows (pooled ReLU features span orders of magnitude between channels, and
 * an unscaled probe is led by the few loud ones), then, with `unit`, each row to unit length so
 * a dot product is a cosine. Returns a new n × cols array.
 */
export function standardise(features: Float32Array, width: number, from: number, cols: number, unit: boolean): Float32Array {
  const n = Math.floor(features.length / width);
  const mean = new Float64Array(cols);
  const sq = new Float64Array(cols);
  for (let r = 0; r < n; r++) {
    const o = r * width + from;
    for (let c = 0; c < cols; c++) {
      const v = features[o + c]!;
      mean[c] += v;
      sq[c] += v * v;
    }
  }
  const scale = new Float64Array(cols);
  for (let c = 0; c < cols; c++) {
    mean[c] /= Math.max(1, n);
    const variance = sq[c]! / Math.max(1, n) - mean[c]! * mean[c]!;
    scale[c] = variance > 1e-12 ? 1 / Math.sqrt(variance) : 0; // a constant column carries nothing
  }
  const out = new Float32Array(n * cols);
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
  return out;
}

/** The chosen columns of every row, scaled to unit length without centring: the cosine the duplicate and neighbour searches use (a near-blank image keeps its small, odd vector, far from all the others). */
export function unitRows(v: FeatureView): Float32Array {
  const n = Math.floor(v.features.length / v.width);
  const out = new Float32Array(n * v.cols);
  for (let r = 0; r < n; r++) {
    const row = v.features.subarray(r * v.width + v.from, r * v.width + v.from + v.cols);
    let s = 0;
    for (let c = 0; c < v.cols; c++) s += row[c]! * row[c]!;
    const k = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let c = 0; c < v.cols; c++) out[r * v.cols + c] = row[c]! * k;
  }
  return out;
}

