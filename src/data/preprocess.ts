/**
 * Turn uint8 pixels into the float input a base model expects, written straight into a batch
 * buffer. The modes match keras.applications' `preprocess_input`.
 */
import { bytesToFloatsWasm } from "./resize";

export type PreprocessMode = "tf" | "caffe" | "torch" | "none";

const CAFFE_MEAN_BGR = [103.939, 116.779, 123.68] as const;
const TORCH_MEAN = [0.485, 0.456, 0.406] as const;
const TORCH_STD = [0.229, 0.224, 0.225] as const;
const avg = (v: readonly number[]): number => v.reduce((a, b) => a + b, 0) / v.length;

/**
 * Write `pixels` (HWC, `channels` per pixel) into `out` from `offset`.
 * tf: x/127.5 - 1 (range -1..1, MobileNet). caffe: RGB to BGR, then subtract the ImageNet BGR
 * means (VGG, ResNet50). torch: x/255, then per-channel ImageNet mean/std (DenseNet).
 * none: 0..255 as floats (models that rescale inside, e.g. EfficientNet).
 * One-channel input uses the average of the three means and stds.
 * caffe and torch look each output channel up in a 256-entry table of those values, which is
 * several times faster than computing them per pixel and gives the same floats.
 */
export function toFloatInput(pixels: Uint8Array, out: Float32Array, offset: number, mode: PreprocessMode, channels: 1 | 3): void {
  const n = pixels.length;
  if (offset < 0 || offset + n > out.length) throw new RangeError(`batch buffer too small: need ${offset + n}, have ${out.length}`);
  if (mode === "none" || mode === "tf") {
    // resize.wat's SIMD conversion when it loads: the same floats (the test checks every byte value)
    if (bytesToFloatsWasm(pixels, mode === "tf" ? 127.5 : 0, mode === "tf" ? 127.5 : 1, out, offset)) return;
    // a native byte-to-float copy, then (tf) one multiply-add in place: x * (1 / 127.5) - 1 is
    // the same float32 as x / 127.5 - 1 for every byte value (the test checks all 256)
    out.set(pixels, offset);
    if (mode === "tf") for (let i = offset, end = offset + n; i < end; i++) out[i] = out[i]! * (1 / 127.5) - 1;
    return;
  }
  const { from, lut } = floatTables(mode, channels);
  if (lut.length === 1) {
    const t = lut[0]!;
    for (let i = 0; i < n; i++) out[offset + i] = t[pixels[i]!]!;
    return;
  }
  mapRgb(pixels, { from, lut }, out, offset);
}

/** RGB bytes through three-channel tables into `out` from `offset`: out[k] = lut[k][byte of channel from[k]]. */
export function mapRgb(pixels: Uint8Array, tables: FloatTables, out: Float32Array, offset: number): void {
  // (indexing, not array destructuring: a destructuring pattern here makes V8 compile the
  // whole function about twice as slow)
  const t0 = tables.lut[0]!, t1 = tables.lut[1]!, t2 = tables.lut[2]!;
  const s0 = tables.from[0], s1 = tables.from[1], s2 = tables.from[2];
  for (let i = 0, n = pixels.length; i < n; i += 3) {
    out[offset + i] = t0[pixels[i + s0]!]!;
    out[offset + i + 1] = t1[pixels[i + s1]!]!;
    out[offset + i + 2] = t2[pixels[i + s2]!]!;
  }
}

/** For each output channel: which input channel it reads, and the float for each byte value. */
export interface FloatTables {
  from: [number, number, number];
  lut: Float32Array[];
}

const tableCache = new Map<string, FloatTables>();

/**
 * `mode`'s mapping as tables: output channel k is lut[k][byte of input channel from[k]], the
 * same floats toFloatInput writes (tf computes x * (1 / 127.5) - 1 in double and rounds it to
 * float32 once, as toFloatInput's loop does).
 */
export function floatTables(mode: PreprocessMode, channels: 1 | 3): FloatTables {
  const key = `${mode}:${channels}`;
  let t = tableCache.get(key);
  if (!t) {
    const value = mode === "tf" ? (_k: number, v: number) => v * (1 / 127.5) - 1 : mode === "none" ? (_k: number, v: number) => v : channelValue(mode, channels);
    const lut = Array.from({ length: channels }, (_, k) => Float32Array.from({ length: 256 }, (_, v) => value(k, v)));
    t = { from: mode === "caffe" && channels === 3 ? [2, 1, 0] : [0, 1, 2], lut };
    tableCache.set(key, t);
  }
  return t;
}

/** The float for byte `v` in output channel `k` (for caffe, channel k of BGR). */
function channelValue(mode: "caffe" | "torch", channels: 1 | 3): (k: number, v: number) => number {
  if (channels === 1) {
    const mean = mode === "caffe" ? avg(CAFFE_MEAN_BGR) : avg(TORCH_MEAN) * 255;
    const scale = mode === "caffe" ? 1 : 1 / (avg(TORCH_STD) * 255);
    return (_k, v) => (v - mean) * scale;
  }
  if (mode === "caffe") return (k, v) => v - CAFFE_MEAN_BGR[k]!;
  return (k, v) => (v - TORCH_MEAN[k]! * 255) * (1 / (TORCH_STD[k]! * 255));
}

/** Replicate one grayscale channel into three, for a 3-channel model fed grayscale images. */
export function grayToRgb(gray: Uint8Array): Uint8Array {
  const out = new Uint8Array(gray.length * 3);
  for (let i = 0, o = 0; i < gray.length; i++, o += 3) out[o] = out[o + 1] = out[o + 2] = gray[i]!;
  return out;
}

/**
 * RGB to one luma channel with ITU-R 601 weights, L = 0.299 R + 0.587 G + 0.114 B, rounded in
 * the same fixed point as PIL's convert("L") (what Keras' color_mode="grayscale" uses).
 */
export function rgbToGray(rgb: Uint8Array): Uint8Array {
  const out = new Uint8Array(rgb.length / 3);
  for (let i = 0, s = 0; i < out.length; i++, s += 3) out[i] = (rgb[s]! * 19595 + rgb[s + 1]! * 38470 + rgb[s + 2]! * 7471 + 0x8000) >> 16;
  return out;
}
