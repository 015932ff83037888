/**
 * Per-column sums and sums of squares in float64 over rows added a block at a time: what a
 * column's mean and variance are computed from, without holding every row at once.
 */
export class ColumnSums {
  readonly sum: Float64Array;
  readonly squares: Float64Array;

  constructor(readonly cols: number) {
    this.sum = new Float64Array(cols);
    this.squares = new Float64Array(cols);
  }

  /** Add every row of `block` (rows of `width` values), its `cols` columns from `from` on. */
  add(block: Float32Array, width = this.cols, from = 0): void {
    const n = Math.floor(block.length / width);
    for (let r = 0; r < n; r++) {
      const o = r * width + from;
      for (let c = 0; c < this.cols; c++) {
        const v = block[o + c]!;
        this.sum[c] += v;
        this.squares[c] += v * v;
      }
    }
  }
}
