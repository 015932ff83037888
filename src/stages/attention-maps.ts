import * as tf from "@tensorflow/tfjs";
import sharp from "sharp";
import type { Interpolation } from "../config/types";
import type { Manifest } from "../data/manifest";
import { writeFileAtomic } from "../util/atomic";
import { esc, FONT, overlayPair, paste } from "./heat-overlay";

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
  for (const [i, r] of rows.entries()) paste(canvas, width, await overlayPair(r.abs, r.map, mapSize, interpolation, TILE), width, TILE, 0, top + i * rowH + label);
  const text = rows.map((r, i) => `<text x="4" y="${top + i * rowH + 15}" ${FONT} font-size="12">${esc(`true ${r.truth}, predicted ${r.predicted}`)}</text>`).join("");
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><text x="${width / 2}" y="20" ${FONT} font-size="14" text-anchor="middle">Attention maps (${mapSize[0]}x${mapSize[1]})</text>${text}</svg>`;
  const png = await sharp(canvas, { raw: { width, height, channels: 3 } }).composite([{ input: Buffer.from(svg) }]).png().toBuffer();
  writeFileAtomic(path, png);
}

/** Attention maps [n, h*w] of a batch of images ([n, h, w, 3] values) through a model whose output is the attention layer. */
export function attentionOf(mapModel: tf.LayersModel, x: Float32Array, shape: [number, number, number, number]): Float32Array {
  return tf.tidy(() => (mapModel.predict(tf.tensor4d(x, shape)) as tf.Tensor).dataSync() as Float32Array);
}
