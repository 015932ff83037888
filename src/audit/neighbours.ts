import * as tf from "@tensorflow/tfjs";

/** Each row's k nearest other rows by cosine: n × k indices and cosines, nearest first. */
export interface Neighbours {
  k: number;
  index: Int32Array;
  cosine: Float32Array;
}

/**
 * The k nearest neighbours of every row of `unit` (n × d, rows of unit length) among all the
 * others, by a blocked matrix product: a block of rows against the whole set, then top-(k+1) and
 * the row itself dropped. Memory is one block × n scores (`blockValues` floats), so it stays flat
 * as n grows; the time grows as n²·d, which is why the caller may hand in fewer dimensions.
 * With `queries`, only those rows' lists are found (row r of the result is `queries[r]`'s), in
 * blocks of the same shape: the audit times a sample of rows this way to foresee the whole search.
 */
export function nearestNeighbours(unit: Float32Array, d: number, k: number, opts: { blockValues?: number; tick?: () => void; queries?: Int32Array } = {}): Neighbours {
  const n = Math.floor(unit.length / d);
  const q = opts.queries?.length ?? n;
  const kk = Math.max(0, Math.min(k, n - 1));
  const index = new Int32Array(q * kk);
  const cosine = new Float32Array(q * kk);
  if (kk === 0) return { k: kk, index, cosine };
  const all = tf.tensor2d(unit, [n, d]);
  const picked = opts.queries && tf.tensor1d(opts.queries, "int32");
  try {
    const block = Math.max(16, Math.floor((opts.blockValues ?? 1 << 24) / n));
    for (let r0 = 0; r0 < q; r0 += block) {
      opts.tick?.();
      const rows = Math.min(block, q - r0);
      // tidy returns the tensors, not their data: it walks what it returns, value by value. The
      // product takes `all` transposed as it multiplies, not as a copy: at 100k rows a transposed
      // copy is another 100 MB, held through the whole search.
      const top = tf.tidy(() => {
        const left = picked ? tf.gather(all, picked.slice([r0], [rows])) : all.slice([r0, 0], [rows, d]);
        return tf.topk(tf.matMul(left, all, false, true), kk + 1);
      });
      const values = read(top.values);
      const idx = read(top.indices);
      for (let r = 0; r < rows; r++) {
        const out = r0 + r;
        const self = opts.queries ? opts.queries[out]! : out;
        let c = 0;
        for (let j = 0; j <= kk && c < kk; j++) {
          const other = idx[r * (kk + 1) + j]!;
          if (other === self) continue;
          index[out * kk + c] = other;
          cosine[out * kk + c] = values[r * (kk + 1) + j]!;
          c++;
        }
      }
    }
  } finally {
    all.dispose();
    picked?.dispose();
  }
  return { k: kk, index, cosine };
}

/**
 * A seeded Gaussian random projection of n × d rows to `to` dimensions, rows renormalised: keeps
 * cosines within about ±1/√to (Johnson–Lindenstrauss), so a neighbour search over 100k images
 * costs n²·to instead of n²·d. The rows need not be unit length (the projection is linear, so a
 * row's scale leaves its projected direction alone), and they are projected a block at a time:
 * at 100k rows of 2,560 values the whole matrix as one tensor would be another gigabyte.
 */
export function project(rows: Float32Array, d: number, to: number, seed: number, opts: { blockRows?: number; tick?: () => void } = {}): Float32Array {
  const n = Math.floor(rows.length / d);
  const out = new Float32Array(n * to);
  const r = tf.randomNormal([d, to], 0, 1, "float32", seed);
  try {
    const block = opts.blockRows ?? 4096;
    for (let r0 = 0; r0 < n; r0 += block) {
      opts.tick?.();
      const m = Math.min(block, n - r0);
      out.set(read(tf.tidy((): tf.Tensor => {
        const p = tf.tensor2d(rows.subarray(r0 * d, (r0 + m) * d), [m, d]).matMul(r);
        return p.div(p.norm("euclidean", 1, true).maximum(1e-12));
      })), r0 * to);
    }
  } finally {
    r.dispose();
  }
  return out;
}

/** A tensor's values, the tensor then released. */
export function read<T extends tf.Tensor>(t: T): Float32Array | Int32Array {
  try {
    return t.dataSync() as Float32Array | Int32Array;
  } finally {
    t.dispose();
  }
}
