/**
 * The JS decode path for plain PNGs: ./png decodes, ./resize resamples. It loads neither sharp
 * nor TensorFlow (decode-worker.ts runs it on worker threads). decode.ts sends everything it does
 * not take to sharp.
 */
import type { DecodeOptions } from "./decode-options";
import { PngDataError, decodePng, pngHeader, readPng, type PngFile } from "./png";
import { grayToRgb, rgbToGray } from "./preprocess";
import { resize } from "./resize";

/**
 * PNGs with more samples than this (width x height x 1 for grey, x 3 for colour) go to sharp
 * even when the JS decoder could read them: libvips decodes and shrinks big images faster. At
 * 224 px output on this project's 2-core bench machine the two cost the same at about 256x256
 * colour and 512x512 grey (2.1 vs 2.3 ms; 384x384 colour: 4.8 vs 3.8 ms); emoji-sized 64x64
 * PNGs cost 0.6 vs 2.2 ms.
 */
export const JS_PATH_MAX_SAMPLES = 256 * 256 * 3;

export const tooManyPixels = (w: number, h: number, limit: number): string => `too many pixels (${w}×${h} > ${limit})`;

/**
 * `buf` decoded to uint8 HWC pixels of exactly `opts.size`, or undefined when it is not a PNG
 * this path takes. Throws PngDataError (with the reason to show) for a damaged or too large PNG.
 */
export function decodePngFast(buf: Buffer, opts: DecodeOptions): Uint8Array | undefined {
  const img = forJsPath(buf, opts.maxPixels);
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
  const img = forJsPath(buf, maxPixels);
  return img && { width: img.width, height: img.height };
}

/** The decoded PNG when this path takes it. */
function forJsPath(buf: Buffer, maxPixels: number): ReturnType<typeof decodePng> {
  const head = pngHeader(buf);
  if (!head) return undefined;
  const pixels = head.width * head.height;
  if (pixels * (head.colorType === 0 || head.colorType === 4 ? 1 : 3) > JS_PATH_MAX_SAMPLES) return undefined;
  if (pixels > maxPixels) throw new PngDataError(tooManyPixels(head.width, head.height, maxPixels));
  const file: PngFile | undefined = readPng(buf);
  return file && decodePng(file);
}
