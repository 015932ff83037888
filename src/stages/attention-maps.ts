import * as tf from "@tensorflow/tfjs";
import sharp from "sharp";
import type { Interpolation } from "../config/types";
import { decodeImage } from "../data/decode";
import type { Manifest } from "../data/manifest";
import { writeFileAtomic } from "../util/atomic";

/** How many held-out images the attention figure shows. */
export const ATTENTION_IMAGES = 6;
const TILE = 160;

/** Up to `n` images of a split, one class after another so every class shows up early. */
export function pickImages(manifest: Manifest, split: string, n: number): number[] {
  const byClass = manifest.classes.map((_, c) => manifest.items.flatMap((it, i) => (it.split === split && it.label === c ? [i] : [])));
  const out: number[] = [];
  for (let round = 0; out.length < n && byClass.some((l) => l.length > round); round++)
    for (const list of byClass) if (list[round] !== undefined && out.length < n) out.push(list[round]!);
  return out;
}

/** A heat colour for a value in 0..1: dark blue, cyan, yellow, red. */
function heat(v: number): [number, number, number] {
  const stops: Array<[number, number, number]> = [[0, 0, 128], [0, 200, 255], [255, 230, 0], [220, 0, 0]];
  const t = Math.min(0.999, Math.max(0, v)) * (stops.length - 1);
  const [a, b] = [stops[Math.floor(t)]!, stops[Math.floor(t) + 1]!];
  const f = t - Math.floor(t);
  return [0, 1, 2].map((k) => Math.round(a[k]! + (b[k]! - a[k]!) * f)) as [number, number, number];
}

/** The map at a fractional position (row, column), interpolated between its four neighbours. */
function bilinear(map: Float32Array, h: number, w: number, r: number, c: number): number {
  const clamp = (v: number, n: number): number => Math.min(n - 1, Math.max(0, v));
  const [r0, c0] = [clamp(Math.floor(r), h), clamp(Math.floor(c), w)];
  const [r1, c1] = [clamp(r0 + 1, h), clamp(c0 + 1, w)];
  const [fr, fc] = [clamp(r - r0, 2), clamp(c - c0, 2)].map((f) => Math.min(1, Math.max(0, f))) as [number, number];
  const at = (i: number, j: number): number => map[i * w + j]!;
  return (at(r0, c0) * (1 - fc) + at(r0, c1) * fc) * (1 - fr) + (at(r1, c0) * (1 - fc) + at(r1, c1) * fc) * fr;
}

/** The image (left) and the image under the attention map (right), TILE x TILE each, as RGB bytes. */
async function tilePair(abs: string, map: Float32Array, [h, w]: [number, number], interpolation: Interpolation): Promise<Uint8Array> {
  const img = await decodeImage(abs, { size: [TILE, TILE], colorMode: "rgb", maxPixels: 1e9, interpolation });
  const max = map.reduce((m, v) => Math.max(m, v), 0) || 1;
  const out = new Uint8Array(TILE * 2 * TILE * 3);
  for (let y = 0; y < TILE; y++)
    for (let x = 0; x < TILE; x++) {
      const src = (y * TILE + x) * 3;
      const a = bilinear(map, h, w, ((y + 0.5) * h) / TILE - 0.5, ((x + 0.5) * w) / TILE - 0.5) / max;
      const c = heat(a);
      for (let k = 0; k < 3; k++) {
        out[(y * 2 * TILE + x) * 3 + k] = img[src + k]!;
        out[(y * 2 * TILE + TILE + x) * 3 + k] = Math.round(0.45 * img[src + k]! + 0.55 * c[k]!);
      }
    }
  return out;
}

const esc = (s: string): string => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/**
 * Write a PNG of the attention maps of a few held-out images: each row is the image and the
 * image under its attention map (red = most attended), titled with the true and predicted class.
 */
export async function writeAttentionPng(
  path: string, rows: Array<{ abs: string; truth: string; predicted: string; map: Float32Array }>, mapSize: [number, number],
  interpolation: Interpolation,
): Promise<void> {
  const top = 30, label = 22, rowH = TILE + label, width = 2 * TILE;
  const height = top + rows.length * rowH;
  const canvas = Buffer.alloc(width * height * 3, 255);
  for (const [i, r] of rows.entries()) {
    const tile = await tilePair(r.abs, r.map, mapSize, interpolation);
    for (let y = 0; y < TILE; y++) canvas.set(tile.subarray(y * width * 3, (y + 1) * width * 3), ((top + i * rowH + label + y) * width) * 3);
  }
  const font = `font-family="DejaVu Sans, Arial, sans-serif"`;
  const text = rows.map((r, i) => `<text x="4" y="${top + i * rowH + 15}" ${font} font-size="12">${esc(`true ${r.truth}, predicted ${r.predicted}`)}</text>`).join("");
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><text x="${width / 2}" y="20" ${font} font-size="14" text-anchor="middle">Attention maps (${mapSize[0]}x${mapSize[1]})</text>${text}</svg>`;
  const png = await sharp(canvas, { raw: { width, height, channels: 3 } }).composite([{ input: Buffer.from(svg) }]).png().toBuffer();
  writeFileAtomic(path, png);
}

/** Attention maps [n, h*w] of a batch of images ([n, h, w, 3] values) through a model whose output is the attention layer. */
export function attentionOf(mapModel: tf.LayersModel, x: Float32Array, shape: [number, number, number, number]): Float32Array {
  return tf.tidy(() => (mapModel.predict(tf.tensor4d(x, shape)) as tf.Tensor).dataSync() as Float32Array);
}
