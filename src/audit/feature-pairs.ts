import * as tf from "@tensorflow/tfjs";
import type { Split } from "../data/scan";
import { CROSS_SPLITS } from "./hash-pairs";
import type { DuplicateFinding } from "./types";

/** Which values of each feature row the pair search compares. */
export interface FeatureView {
  features: Float32Array;
  /** Values per row. */
  width: number;
  /** The first value of the row compared, and how many. */
  from: number;
  cols: number;
}

/**
 * Near duplicates ACROSS splits by feature cosine: for each image of the later split, its best
 * `topK` matches in the earlier one, kept when the cosine is at least `minCosine`. Rows are
 * L2-normalised once; the search is a blocked matrix product (a block of query rows against all
 * reference rows, then top-k per row), so memory stays at one block × reference scores however
 * many images there are, and the product runs on the tfjs backend's BLAS.
 */
export function featurePairs(
  items: ReadonlyArray<{ split: Split }>, view: FeatureView, minCosine: number, opts: { topK?: number; blockValues?: number } = {},
): DuplicateFinding[] {
  const topK = opts.topK ?? 3;
  const out: DuplicateFinding[] = [];
  for (const [s, t] of CROSS_SPLITS) {
    const ref = items.flatMap((it, i) => (it.split === s ? [i] : []));
    const query = items.flatMap((it, i) => (it.split === t ? [i] : []));
    if (ref.length === 0 || query.length === 0) continue;
    const refT = tf.tidy(() => normalised(view, ref).transpose());
    try {
      const block = Math.max(16, Math.floor((opts.blockValues ?? 1 << 24) / ref.length));
      for (let q0 = 0; q0 < query.length; q0 += block) {
        const rows = query.slice(q0, q0 + block);
        const k = Math.min(topK, ref.length);
        const [values, indices] = tf.tidy(() => {
          const top = tf.topk(tf.matMul(normalised(view, rows), refT), k);
          return [top.values.dataSync(), top.indices.dataSync()] as const;
        });
        for (let r = 0; r < rows.length; r++) {
          for (let c = 0; c < k; c++) {
            const cos = values[r * k + c]!;
            if (!(cos >= minCosine)) break;
            const x = rows[r]!;
            const y = ref[indices[r * k + c]!]!;
            out.push({ a: Math.min(x, y), b: Math.max(x, y), kind: "near", similarity: Math.min(1, cos), signal: "features" });
          }
        }
      }
    } finally {
      refT.dispose();
    }
  }
  return out;
}

/** The chosen columns of rows `idx`, each scaled to unit length (a zero row stays zero). */
function normalised(view: FeatureView, idx: readonly number[]): tf.Tensor2D {
  const m = new Float32Array(idx.length * view.cols);
  idx.forEach((r, i) => m.set(view.features.subarray(r * view.width + view.from, r * view.width + view.from + view.cols), i * view.cols));
  return tf.tidy(() => {
    const x = tf.tensor2d(m, [idx.length, view.cols]);
    return x.div(x.norm("euclidean", 1, true).maximum(1e-12)) as tf.Tensor2D;
  });
}
