/**
 * A separable resampler for uint8 HWC pixels, in the manner of PIL's `Image.resize`: for each
 * output row and column a precomputed list of source taps and weights, with the kernel's support
 * widened by the shrink factor when downscaling, so shrinking averages every source pixel it
 * covers (antialiased) instead of skipping some. Pixel centres sit at (i + 0.5); taps that fall
 * outside the image are dropped and the rest renormalised, as PIL does.
 */

import type { Interpolation } from "../config/types";
import { RESIZE_WASM } from "./resize-wasm";

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
  if (sh !== dh && kernel !== "nearest") {
    const done = resizeWasm(src, sh, sw, channels, axisTaps(sw, dw, kernel), axisTaps(sh, dh, kernel), out);
    if (done) return out;
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

interface ResizeWasm {
  memory: { buffer: ArrayBuffer; grow(pages: number): number };
  rows(src: number, h: number, sw: number, c: number, dw: number, start: number, count: number, weights: number, max: number, out: number): void;
  cols(rows: number, len: number, dh: number, start: number, count: number, weights: number, max: number, out: number): void;
  floats(src: number, n: number, out: number, sub: number, div: number): void;
  warp(src: number, h: number, w: number, bx: number, by: number, axx: number, axy: number, ayx: number, ayy: number, cy: number, lut: number, rev: number, out: number): void;
}

let wasm: ResizeWasm | null | undefined;
/** The WebAssembly global (this project's TypeScript libs do not declare it). */
const WASM = (globalThis as unknown as { WebAssembly?: { Module: new (bytes: Uint8Array) => object; Instance: new (m: object) => { exports: object } } }).WebAssembly;

/** Whether resize and the float conversion may use resize.wat (tests and the bench compare both); returns the previous setting. */
export function useResizeWasm(on: boolean): boolean {
  const prev = resizeModule() !== null;
  wasm = on ? undefined : null;
  if (on) resizeModule();
  return prev;
}

/** resize.wat's module (resizing and bytesToFloatsWasm), or null where WebAssembly SIMD is missing or TLRUN_RESIZE_WASM=0. */
function resizeModule(): ResizeWasm | null {
  if (wasm === undefined) {
    try {
      wasm = process.env.TLRUN_RESIZE_WASM === "0" || !WASM ? null : (new WASM.Instance(new WASM.Module(Buffer.from(RESIZE_WASM, "base64"))).exports as unknown as ResizeWasm);
    } catch {
      wasm = null;
    }
  }
  return wasm;
}

/**
 * Both passes in WebAssembly (resize.wat: the same arithmetic, so the same bytes; 92 against
 * 203 us for the emoji's 64 -> 128 px bilinear): the pixels and taps are copied into its memory, laid out as
 * src | x taps | y taps | rows | out. False when the module is not available.
 */
function resizeWasm(src: Uint8Array, sh: number, sw: number, c: number, tx: AxisTaps, ty: AxisTaps, out: Uint8Array): boolean {
  const m = resizeModule();
  if (!m) return false;
  const dw = tx.start.length, dh = ty.start.length;
  const align = (n: number): number => (n + 15) & ~15;
  let at = align(src.length);
  const place = (t: AxisTaps): [number, number, number] => {
    const p = [at, at + t.start.length * 4, at + t.start.length * 8] as [number, number, number];
    at = align(p[2] + t.weights.length * 4);
    return p;
  };
  const px = place(tx), py = place(ty);
  const rows = at;
  const outAt = align(rows + sh * dw * c * 4);
  const need = outAt + out.length;
  reserve(m, need);
  const buf = m.memory.buffer;
  new Uint8Array(buf, 0, src.length).set(src);
  for (const [t, [start, count, weights]] of [[tx, px], [ty, py]] as const) {
    new Int32Array(buf, start, t.start.length).set(t.start);
    new Int32Array(buf, count, t.count.length).set(t.count);
    new Float32Array(buf, weights, t.weights.length).set(t.weights);
  }
  m.rows(0, sh, sw, c, dw, px[0], px[1], px[2], tx.max, rows);
  m.cols(rows, dw * c, dh, py[0], py[1], py[2], ty.max, outAt);
  out.set(new Uint8Array(buf, outAt, out.length));
  return true;
}

/**
 * `px` as floats, (v - sub) / div each, written into `out` from `offset` by resize.wat's `floats`
 * (SIMD): the bytes go in at 0 and the floats come out after them. False when the module is not
 * available. About 45 us for a 128 px RGB image into shared memory, against 110-150 for the JS
 * loop (most of it the copy out: a typed array's set() into shared memory is slow in V8).
 */
export function bytesToFloatsWasm(px: Uint8Array, sub: number, div: number, out: Float32Array, offset: number): boolean {
  const m = resizeModule();
  if (!m) return false;
  const outAt = (px.length + 15) & ~15;
  const need = outAt + px.length * 4;
  reserve(m, need);
  // views made once per memory and length: making two typed arrays over wasm memory per image
  // cost more than the conversion
  if (floatViews?.buffer !== m.memory.buffer || floatViews.bytes.length !== px.length) {
    floatViews = { buffer: m.memory.buffer, bytes: new Uint8Array(m.memory.buffer, 0, px.length), floats: new Float32Array(m.memory.buffer, outAt, px.length) };
  }
  floatViews.bytes.set(px);
  m.floats(0, px.length, outAt, sub, div);
  out.set(floatViews.floats, offset);
  return true;
}

let floatViews: { buffer: ArrayBuffer; bytes: Uint8Array; floats: Float32Array } | undefined;

/** augment.ts' warp of one RGB image as f32 coefficients (see resize.wat's `warp`). */
export interface WarpMap {
  bx: number; by: number; axx: number; axy: number; ayx: number; ayy: number; cy: number;
}

/**
 * resize.wat's `warp` of RGB `src` (h x w) under `m`: the warped bytes into `out` from `offset`,
 * or with `lut` (a table of 256 floats per output channel, `reversed` for BGR) the floats. The
 * same values as augment.ts' JS loops: 165-210 against 520 us for a 128 px image into floats.
 * False when the module is not available.
 */
export function warpWasm(
  src: Uint8Array, h: number, w: number, m: WarpMap, out: Uint8Array | Float32Array, offset: number, lut?: { tables: readonly Float32Array[]; reversed: boolean },
): boolean {
  const mod = resizeModule();
  if (!mod) return false;
  const n = h * w * 3;
  // src | a spare byte (corners are read four bytes at a time) | tables | out
  const tables = (n + 4 + 15) & ~15;
  const outAt = tables + 3 * 1024;
  const floats = lut !== undefined;
  if (floats !== out instanceof Float32Array) throw new TypeError("warpWasm: floats out need tables, bytes out none");
  reserve(mod, outAt + n * 4);
  const buf = mod.memory.buffer;
  if (warpViews?.buffer !== buf || warpViews.n !== n) {
    warpViews = { buffer: buf, n, src: new Uint8Array(buf, 0, n), tables: new Float32Array(buf, tables, 768), floats: new Float32Array(buf, outAt, n), bytes: new Uint8Array(buf, outAt, n) };
  }
  const v = warpViews;
  v.src.set(src);
  if (lut) lut.tables.forEach((t, k) => v.tables.set(t, k * 256));
  mod.warp(0, h, w, m.bx, m.by, m.axx, m.axy, m.ayx, m.ayy, m.cy, lut ? tables : 0, lut?.reversed ? 1 : 0, outAt);
  if (floats) out.set(v.floats, offset);
  else out.set(v.bytes, offset);
  return true;
}

let warpViews: { buffer: ArrayBuffer; n: number; src: Uint8Array; tables: Float32Array; floats: Float32Array; bytes: Uint8Array } | undefined;

/** Grow the module's memory to at least `bytes` (whole 64 KiB pages); its buffer is then a new one. */
function reserve(m: ResizeWasm, bytes: number): void {
  const have = m.memory.buffer.byteLength;
  if (have < bytes) m.memory.grow(Math.ceil((bytes - have) / 65536));
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
