/**
 * The JS decode path for plain PNGs: ./png decodes, ./resize resamples. It loads neither sharp
 * nor TensorFlow (decode-worker.ts runs it on worker threads). decode.ts sends everything it does
 * not take to sharp.
 */
import type { DecodeOptions } from "./decode";
import { PngDataError, decodePng, pngDimensions, readPng } from "./png";
import { grayToRgb, rgbToGray } from "./preprocess";
import { resize } from "./resize";

/**
 * Above this many pixels a PNG goes to sharp even when the JS decoder could read it: libvips
 * shrinks big images faster, on several threads (see bench: 512x512 is about even).
 */
export const JS_PATH_MAX_PIXELS = 512 * 512;

export const tooManyPixels = (w: number, h: number, limit: number): string => `too many pixels (${w}×${h} > ${limit})`;

/**
 * `buf` decoded to uint8 HWC pixels of exactly `opts.size`, or undefined when it is not a PNG
 * this path takes. Throws PngDataError (with the reason to show) for a damaged or too large PNG.
 */
export function decodePngFast(buf: Buffer, opts: DecodeOptions): Uint8Array | undefined {
  const dims = pngDimensions(buf);
  if (!dims || dims[0] * dims[1] > JS_PATH_MAX_PIXELS) return undefined;
  if (dims[0] * dims[1] > opts.maxPixels) throw new PngDataError(tooManyPixels(dims[0], dims[1], opts.maxPixels));
  const file = readPng(buf);
  const img = file && decodePng(file);
  if (!img) return undefined;
  // grey is computed before resizing (one channel to resample instead of three); luma and
  // resampling are both linear, so the order changes results by rounding only
  const gray = opts.colorMode === "grayscale";
  const toGray = gray && img.channels === 3;
  const channels = toGray ? 1 : img.channels;
  const px = resize(toGray ? rgbToGray(img.data) : img.data, [img.height, img.width], channels, opts.size, opts.interpolation);
  return channels === 1 && !gray ? grayToRgb(px) : px;
}

/** A probe of `buf` on this path: its size when it decodes in full, undefined when it is not for this path. */
export function probePngFast(buf: Buffer, maxPixels: number): { width: number; height: number } | undefined {
  const dims = pngDimensions(buf);
  if (!dims || dims[0] * dims[1] > JS_PATH_MAX_PIXELS) return undefined;
  if (dims[0] * dims[1] > maxPixels) throw new PngDataError(tooManyPixels(dims[0], dims[1], maxPixels));
  const file = readPng(buf);
  return file && decodePng(file) ? { width: file.width, height: file.height } : undefined;
}
