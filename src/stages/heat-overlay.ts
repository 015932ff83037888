import type { Interpolation } from "../config/types";
import { decodeImage } from "../data/decode";

/**
 * Drawing shared by the figures that lay a spatial map over an image (attention maps, Grad-CAM
 * panels): the heat colour scale, upsampling a coarse map to the image, and SVG text for sharp.
 */

/** A heat colour for a value in 0..1: dark blue, cyan, yellow, red. */
export function heat(v: number): [number, number, number] {
  const stops: Array<[number, number, number]> = [[0, 0, 128], [0, 200, 255], [255, 230, 0], [220, 0, 0]];
  const t = Math.min(0.999, Math.max(0, v)) * (stops.length - 1);
  const [a, b] = [stops[Math.floor(t)]!, stops[Math.floor(t) + 1]!];
  const f = t - Math.floor(t);
  return [0, 1, 2].map((k) => Math.round(a[k]! + (b[k]! - a[k]!) * f)) as [number, number, number];
}

/** The map at a fractional position (row, column), interpolated between its four neighbours. */
export function bilinear(map: Float32Array, h: number, w: number, r: number, c: number): number {
  const clamp = (v: number, n: number): number => Math.min(n - 1, Math.max(0, v));
  const [r0, c0] = [clamp(Math.floor(r), h), clamp(Math.floor(c), w)];
  const [r1, c1] = [clamp(r0 + 1, h), clamp(c0 + 1, w)];
  const [fr, fc] = [r - r0, c - c0].map((f) => Math.min(1, Math.max(0, f))) as [number, number];
  const at = (i: number, j: number): number => map[i * w + j]!;
  return (at(r0, c0) * (1 - fc) + at(r0, c1) * fc) * (1 - fr) + (at(r1, c0) * (1 - fc) + at(r1, c1) * fc) * fr;
}

/** How much of the heat colour covers the image where the map is `v` (0..1 of its maximum). */
export type Blend = (v: number) => number;

/** The attention figure's blend: the same mix everywhere, so low attention reads as blue. */
export const EVEN_BLEND: Blend = () => 0.55;

/**
 * The image (left) and the image under `map` (right), `tile` x `tile` each, as RGB bytes of a
 * 2*tile wide strip. The map is scaled by its maximum, then upsampled bilinearly.
 */
export async function overlayPair(
  abs: string, map: Float32Array, [h, w]: [number, number], interpolation: Interpolation, tile: number, blend: Blend = EVEN_BLEND,
): Promise<Uint8Array> {
  const img = await decodeImage(abs, { size: [tile, tile], colorMode: "rgb", maxPixels: 1e9, interpolation });
  const max = map.reduce((m, v) => Math.max(m, v), 0) || 1;
  const out = new Uint8Array(tile * 2 * tile * 3);
  for (let y = 0; y < tile; y++)
    for (let x = 0; x < tile; x++) {
      const src = (y * tile + x) * 3;
      const v = bilinear(map, h, w, ((y + 0.5) * h) / tile - 0.5, ((x + 0.5) * w) / tile - 0.5) / max;
      const c = heat(v);
      const alpha = blend(v);
      for (let k = 0; k < 3; k++) {
        out[(y * 2 * tile + x) * 3 + k] = img[src + k]!;
        out[(y * 2 * tile + tile + x) * 3 + k] = Math.round((1 - alpha) * img[src + k]! + alpha * c[k]!);
      }
    }
  return out;
}

/** Copy a `width`-pixel-wide RGB strip of `rows` rows into `canvas` (of width `canvasWidth`) at (x, y). */
export function paste(canvas: Uint8Array, canvasWidth: number, strip: Uint8Array, width: number, rows: number, x: number, y: number): void {
  for (let r = 0; r < rows; r++) canvas.set(strip.subarray(r * width * 3, (r + 1) * width * 3), ((y + r) * canvasWidth + x) * 3);
}

/** Text escaped for SVG. */
export const esc = (s: string): string => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/** The font every figure's SVG text uses. */
export const FONT = `font-family="DejaVu Sans, Arial, sans-serif"`;
