/**
 * A separable resampler for uint8 HWC pixels, in the manner of PIL's `Image.resize`: for each
 * output row and column a precomputed list of source taps and weights, with the kernel's support
 * widened by the shrink factor when downscaling, so shrinking averages every source pixel it
 * covers (antialiased) instead of skipping some. Pixel centres sit at (i + 0.5); taps that fall
 * outside the image are dropped and the rest renormalised, as PIL does.
 */

import type { Interpolation } from "../config/types";

export type { Interpolation };

interface Kernel {
  /** Half-width of the kernel at scale 1, in source pixels. */
  support: number;
  at(x: number): number;
}

const sinc = (x: number): number => (x === 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x));

const KERNELS: Record<Exclude<Interpolation, "nearest">, Kernel> = {
  bilinear: { support: 1, at: (x) => Math.max(0, 1 - Math.abs(x)) },
  // Keys' cubic convolution with a = -0.5 (Catmull-Rom), as PIL's BICUBIC and libvips' cubic.
  bicubic: {
    support: 2,
    at: (x) => {
      const a = -0.5;
      const t = Math.abs(x);
      if (t < 1) return ((a + 2) * t - (a + 3)) * t * t + 1;
      if (t < 2) return (((t - 5) * t + 8) * t - 4) * a;
      return 0;
    },
  },
  lanczos3: { support: 3, at: (x) => (Math.abs(x) < 3 ? sinc(x) * sinc(x / 3) : 0) },
};

/** The taps of one axis: output i reads `count[i]` source pixels from `start[i]`, with weights at `weights[i * max]`. */
export interface AxisTaps {
  start: Int32Array;
  count: Int32Array;
  max: number;
  weights: Float32Array;
}

const tapCache = new Map<string, AxisTaps>();

/** The taps that map `inSize` source pixels onto `outSize`, cached by sizes and kernel. */
export function axisTaps(inSize: number, outSize: number, kernel: Interpolation): AxisTaps {
  const key = `${inSize}:${outSize}:${kernel}`;
  let taps = tapCache.get(key);
  if (!taps) {
    if (tapCache.size > 64) tapCache.clear();
    taps = kernel === "nearest" ? nearestTaps(inSize, outSize) : filterTaps(inSize, outSize, KERNELS[kernel]);
    tapCache.set(key, taps);
  }
  return taps;
}

function nearestTaps(inSize: number, outSize: number): AxisTaps {
  const scale = inSize / outSize;
  const start = new Int32Array(outSize);
  for (let i = 0; i < outSize; i++) start[i] = Math.min(inSize - 1, Math.floor((i + 0.5) * scale));
  return { start, count: new Int32Array(outSize).fill(1), max: 1, weights: new Float32Array(outSize).fill(1) };
}

/** PIL's `precompute_coeffs`, in floating point. */
function filterTaps(inSize: number, outSize: number, k: Kernel): AxisTaps {
  const scale = inSize / outSize;
  const stretch = Math.max(scale, 1);
  const support = k.support * stretch;
  const max = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Float32Array(outSize * max);
  const w = new Float64Array(max);
  for (let i = 0; i < outSize; i++) {
    const centre = (i + 0.5) * scale;
    const lo = Math.max(Math.trunc(centre - support + 0.5), 0);
    const n = Math.min(Math.trunc(centre + support + 0.5), inSize) - lo;
    let sum = 0;
    for (let j = 0; j < n; j++) sum += w[j] = k.at((j + lo - centre + 0.5) / stretch);
    start[i] = lo;
    count[i] = n;
    for (let j = 0; j < n; j++) weights[i * max + j] = sum === 0 ? 0 : w[j]! / sum;
  }
  return { start, count, max, weights };
}

/**
 * Resize HWC uint8 pixels from [sh, sw] to exactly [dh, dw] (no aspect ratio kept: fit "fill").
 * Rows are resampled first into a float buffer, then columns, and only the result is rounded,
 * so the two passes add no rounding or clipping of their own. An axis whose size does not change
 * is copied through untouched.
 */
export function resize(src: Uint8Array, from: [number, number], channels: number, to: [number, number], kernel: Interpolation): Uint8Array {
  const sh = from[0], sw = from[1], dh = to[0], dw = to[1]; // (array destructuring slows V8's code for the whole function)
  if (src.length !== sh * sw * channels) throw new RangeError(`resize: expected ${sh}x${sw}x${channels} pixels, got ${src.length} values`);
  if (sh === dh && sw === dw) return src.slice();
  const out = new Uint8Array(dh * dw * channels);
  if (sw === dw) {
    resampleColumns(src, sw * channels, axisTaps(sh, dh, kernel), out);
    return out;
  }
  const rows = scratch(sh * dw * channels);
  resampleRows(src, sh, sw, channels, axisTaps(sw, dw, kernel), rows);
  if (sh === dh) {
    for (let i = 0; i < out.length; i++) out[i] = toByte(rows[i]!);
  } else {
    resampleColumns(rows, dw * channels, axisTaps(sh, dh, kernel), out);
  }
  return out;
}

/** The row pass's output, reused between calls (resizing is synchronous). */
let rowBuffer = new Float32Array(0);
function scratch(n: number): Float32Array {
  if (rowBuffer.length < n) rowBuffer = new Float32Array(n);
  return rowBuffer;
}

const toByte = (v: number): number => (v <= 0 ? 0 : v >= 255 ? 255 : (v + 0.5) | 0);

/** Horizontal pass: each of `h` rows from `sw` to `taps.start.length` pixels, into `out`. */
function resampleRows(src: Uint8Array, h: number, sw: number, c: number, taps: AxisTaps, out: Float32Array): void {
  if (c === 3) return resampleRows3(src, h, sw, taps, out);
  const { start, count, max, weights } = taps;
  const dw = start.length;
  for (let y = 0; y < h; y++) {
    const srow = y * sw * c;
    const orow = y * dw * c;
    for (let x = 0; x < dw; x++) {
      const n = count[x]!;
      const wo = x * max;
      const s0 = srow + start[x]! * c;
      for (let ch = 0; ch < c; ch++) {
        let acc = 0;
        for (let j = 0, s = s0 + ch; j < n; j++, s += c) acc += weights[wo + j]! * src[s]!;
        out[orow + x * c + ch] = acc;
      }
    }
  }
}

/** `resampleRows` for RGB, the common case, with the channel loop unrolled. */
function resampleRows3(src: Uint8Array, h: number, sw: number, taps: AxisTaps, out: Float32Array): void {
  const { start, count, max, weights } = taps;
  const dw = start.length;
  for (let y = 0; y < h; y++) {
    const srow = y * sw * 3;
    for (let x = 0, o = y * dw * 3; x < dw; x++, o += 3) {
      const n = count[x]!;
      const wo = x * max;
      let r = 0;
      let g = 0;
      let b = 0;
      for (let j = 0, s = srow + start[x]! * 3; j < n; j++, s += 3) {
        const w = weights[wo + j]!;
        r += w * src[s]!;
        g += w * src[s + 1]!;
        b += w * src[s + 2]!;
      }
      out[o] = r;
      out[o + 1] = g;
      out[o + 2] = b;
    }
  }
}

/**
 * Vertical pass: output row y is a weighted sum of whole source rows of `rowLen` values. Two
 * non-negative taps (bilinear enlarging, the common case) cannot leave 0..255, so that loop
 * skips the clamp.
 */
function resampleColumns(rows: Float32Array | Uint8Array, rowLen: number, taps: AxisTaps, out: Uint8Array): void {
  const { start, count, max, weights } = taps;
  let acc = new Float64Array(0);
  for (let y = 0; y < start.length; y++) {
    const n = count[y]!;
    const s = start[y]! * rowLen;
    const o = y * rowLen;
    const w0 = weights[y * max]!;
    const w1 = weights[y * max + 1]!;
    if (n === 1) {
      for (let i = 0; i < rowLen; i++) out[o + i] = toByte(w0 * rows[s + i]!);
    } else if (n === 2 && w0 >= 0 && w1 >= 0) {
      for (let i = 0; i < rowLen; i++) out[o + i] = (w0 * rows[s + i]! + w1 * rows[s + rowLen + i]! + 0.5) | 0;
    } else {
      if (acc.length < rowLen) acc = new Float64Array(rowLen);
      acc.fill(0);
      for (let j = 0; j < n; j++) {
        const w = weights[y * max + j]!;
        const r = s + j * rowLen;
        for (let i = 0; i < rowLen; i++) acc[i] += w * rows[r + i]!;
      }
      for (let i = 0; i < rowLen; i++) out[o + i] = toByte(acc[i]!);
    }
  }
}
