import type { AugmentConfig } from "../config/types";
import type { Rng } from "../util/rng";
import { floatTables, mapRgb, type FloatTables, type PreprocessMode } from "./preprocess";
import { warpWasm, type WarpMap } from "./resize";

/** One random draw of augmentation, in the spirit of Keras' ImageDataGenerator. */
export interface AugmentParams {
  /** Rotation in radians. */
  theta: number;
  /** Zoom factors; above 1 shows more of the image (zooms out), as in Keras. */
  zx: number;
  zy: number;
  /** Shift as a fraction of width and height. */
  tx: number;
  ty: number;
  flipH: boolean;
  flipV: boolean;
  /** Multiplies pixel values. */
  brightness: number;
  /** Scales each channel around its mean. */
  contrast: number;
}

export const IDENTITY_AUGMENT: Readonly<AugmentParams> = {
  theta: 0, zx: 1, zy: 1, tx: 0, ty: 0, flipH: false, flipV: false, brightness: 1, contrast: 1,
};

/** Draw parameters from `cfg`. Always consumes the same number of draws, so streams stay aligned. */
export function sampleAugment(rng: Rng, cfg: AugmentConfig): AugmentParams {
  const sym = (r: number): number => (r > 0 ? rng.uniform(-r, r) : (rng.next(), 0));
  const around1 = (r: number): number => 1 + sym(r);
  return {
    theta: (sym(cfg.rotation) * Math.PI) / 180,
    // Like Keras, x and y zoom are drawn independently from [1 - zoom, 1 + zoom].
    zx: around1(cfg.zoom),
    zy: around1(cfg.zoom),
    tx: sym(cfg.shift),
    ty: sym(cfg.shift),
    flipH: cfg.horizontal_flip ? rng.next() < 0.5 : (rng.next(), false),
    flipV: cfg.vertical_flip ? rng.next() < 0.5 : (rng.next(), false),
    brightness: around1(cfg.brightness),
    contrast: around1(cfg.contrast),
  };
}

/**
 * Apply `p` to uint8 HWC pixels and return a new buffer. Geometry is one inverse-affine warp with
 * bilinear sampling; out-of-range samples take the nearest edge pixel (Keras' fill_mode
 * "nearest"). Then brightness and contrast, clamped to 0..255. Identity params copy exactly.
 */
export function applyAugment(pixels: Uint8Array, h: number, w: number, c: number, p: AugmentParams): Uint8Array {
  const geometric = moves(p);
  const out = geometric ? warp(pixels, h, w, c, p) : pixels.slice();
  if (p.brightness !== 1 || p.contrast !== 1) adjust(out, c, p.brightness, p.contrast);
  return out;
}

/** Whether `p` moves pixels (anything but brightness and contrast). */
const moves = (p: AugmentParams): boolean => p.theta !== 0 || p.zx !== 1 || p.zy !== 1 || p.tx !== 0 || p.ty !== 0 || p.flipH || p.flipV;

/**
 * applyAugment and then toFloatInput of RGB pixels, in one pass: `mode`'s floats for the
 * augmented image, written into `out` from `offset`. The floats are exactly those of the two
 * steps in turn; the warped, adjusted bytes are never stored (unless contrast needs their mean).
 */
export function augmentInto(pixels: Uint8Array, h: number, w: number, p: AugmentParams, out: Float32Array, offset: number, mode: PreprocessMode): void {
  const n = h * w * 3;
  if (pixels.length !== n || offset < 0 || offset + n > out.length) throw new RangeError(`augmentInto: ${pixels.length} pixels for ${h}x${w}x3 into ${out.length - offset} floats`);
  const geometric = moves(p);
  const adjusted = p.brightness !== 1 || p.contrast !== 1;
  // with contrast the byte mapping depends on the warped image's channel means, so warp first
  const bytes = geometric && p.contrast !== 1 ? warp(pixels, h, w, 3, p) : pixels;
  const table = composedTables(mode, adjusted ? adjustTable(bytes, 3, p.brightness, p.contrast) : undefined);
  if (bytes === pixels && geometric) return warpInto(pixels, h, w, p, table, out, offset);
  mapRgb(bytes, table, out, offset);
}

/** `mode`'s float tables with the brightness/contrast byte mapping (adjust's table) applied first. */
function composedTables(mode: PreprocessMode, adjust: Uint8ClampedArray | undefined): FloatTables {
  const base = floatTables(mode, 3);
  if (!adjust) return base;
  const lut = base.lut.map((t, k) => {
    const j = base.from[k]! * 256;
    const c = new Float32Array(256); // (a loop: Float32Array.from with a map function cost 8% of an augmented pass)
    for (let v = 0; v < 256; v++) c[v] = t[adjust[j + v]!]!;
    return c;
  });
  return { from: base.from, lut };
}

/**
 * Where each output pixel samples the source under `p`: centre + R(theta) * Z * (flip(x, y) -
 * centre) + shift, as f32 coefficients. Output pixel (x, y) samples (rx + axx * x, ry + ayx * x)
 * with rx = bx + axy * (y - cy) and ry = by + ayy * (y - cy), every step rounded to f32: the
 * arithmetic of resize.wat's `warp`, which runs it four pixels at a time, and of the JS loops
 * below, so both give the same bytes.
 */
function warpMap(h: number, w: number, p: AugmentParams): WarpMap {
  const cx = (w - 1) / 2;
  const cy = (h - 1) / 2;
  const cos = Math.cos(p.theta);
  const sin = Math.sin(p.theta);
  const fx = p.flipH ? -1 : 1;
  const fy = p.flipV ? -1 : 1;
  const axx = cos * p.zx * fx, axy = -sin * p.zy * fy;
  const ayx = sin * p.zx * fx, ayy = cos * p.zy * fy;
  return {
    bx: f32(cx - axx * cx + p.tx * w), by: f32(cy - ayx * cx + p.ty * h),
    axx: f32(axx), axy: f32(axy), ayx: f32(ayx), ayy: f32(ayy), cy: f32(cy),
  };
}

const f32 = Math.fround;

/**
 * Bilinear warp of `c`-channel pixels under `m` into `out`, in f32 (warpMap). Out-of-range
 * samples take the nearest edge pixel; each sample is rounded half up to a byte.
 */
function warpJs(src: Uint8Array, h: number, w: number, c: number, m: WarpMap, out: Uint8Array): void {
  const maxX = w - 1, maxY = h - 1, stride = w * c;
  let o = 0;
  for (let y = 0; y < h; y++) {
    const dy = f32(y - m.cy);
    const rx = f32(m.bx + f32(m.axy * dy)), ry = f32(m.by + f32(m.ayy * dy));
    for (let x = 0; x < w; x++) {
      const sx = f32(rx + f32(m.axx * x)), sy = f32(ry + f32(m.ayx * x));
      const px = sx < 0 ? 0 : sx > maxX ? maxX : sx;
      const py = sy < 0 ? 0 : sy > maxY ? maxY : sy;
      const x0 = px | 0, y0 = py | 0;
      const x1 = x0 < maxX ? x0 + 1 : x0, y1 = y0 < maxY ? y0 + 1 : y0;
      const ax = f32(px - x0), ay = f32(py - y0);
      const bx = f32(1 - ax), by = f32(1 - ay);
      const w00 = f32(bx * by), w01 = f32(ax * by), w10 = f32(bx * ay), w11 = f32(ax * ay);
      const i00 = y0 * stride + x0 * c, i01 = y0 * stride + x1 * c;
      const i10 = y1 * stride + x0 * c, i11 = y1 * stride + x1 * c;
      for (let k = 0; k < c; k++, o++) {
        const v = f32(f32(f32(f32(src[i00 + k]! * w00) + f32(src[i01 + k]! * w01)) + f32(src[i10 + k]! * w10)) + f32(src[i11 + k]! * w11));
        out[o] = f32(v + 0.5);
      }
    }
  }
}

/**
 * warp() for RGB, with each sample's byte looked up in `table` and written as a float into
 * `out`: resize.wat's `warp` where WebAssembly SIMD runs (165-210 against 520 us for 128 px),
 * else warpJs and then the table.
 */
function warpInto(src: Uint8Array, h: number, w: number, p: AugmentParams, table: FloatTables, out: Float32Array, offset: number): void {
  const m = warpMap(h, w, p);
  // tables by output channel; caffe's BGR reads the source's channels in reverse
  if (warpWasm(src, h, w, m, out, offset, { tables: table.lut, reversed: table.from[0] === 2 })) return;
  const bytes = new Uint8Array(src.length);
  warpJs(src, h, w, 3, m, bytes);
  mapRgb(bytes, table, out, offset);
}

/**
 * adjust's mapping as a 256-entry table per channel (rounded and clamped by the array type).
 * Only contrast needs the channel means; with k = 1 the bias is 0 whatever they are.
 */
function adjustTable(px: Uint8Array, c: number, b: number, k: number): Uint8ClampedArray {
  const sums = new Float64Array(c);
  if (k !== 1) {
    for (let j = 0; j < c; j++) {
      let s = 0;
      for (let i = j; i < px.length; i += c) s += px[i]!;
      sums[j] = s;
    }
  }
  const n = px.length / c || 1;
  const lut = new Uint8ClampedArray(256 * c);
  for (let j = 0; j < c; j++) {
    const bias = (sums[j]! / n) * b * (1 - k);
    for (let v = 0; v < 256; v++) lut[j * 256 + v] = v * b * k + bias;
  }
  return lut;
}

function warp(src: Uint8Array, h: number, w: number, c: number, p: AugmentParams): Uint8Array {
  const out = new Uint8Array(src.length);
  const m = warpMap(h, w, p);
  if (c !== 3 || !warpWasm(src, h, w, m, out, 0)) warpJs(src, h, w, c, m, out);
  return out;
}

/** out = v * b * k + mean * b * (1 - k) per channel: brightness b, then contrast k around the mean. */
function adjust(px: Uint8Array, c: number, b: number, k: number): void {
  const lut = adjustTable(px, c, b, k);
  if (c === 3) {
    for (let i = 0; i < px.length; i += 3) {
      px[i] = lut[px[i]!]!;
      px[i + 1] = lut[256 + px[i + 1]!]!;
      px[i + 2] = lut[512 + px[i + 2]!]!;
    }
  } else {
    for (let i = 0; i < px.length; i++) px[i] = lut[(i % c) * 256 + px[i]!]!;
  }
}
