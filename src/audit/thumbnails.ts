import { gridBytes, poolGrid, rgbGrid, type RgbGrid } from "./pixel-grids";

/** The side of the colour grid (`colourRgba`). */
export const COLOUR_CELLS = 4;

/**
 * A 4×4 RGB thumbnail over white, as hex (48 bytes): the luma hash cannot tell apart two
 * pictures with the same layout in other colours (two tricolour flags, an emoji in two skin
 * tones), and a re-encoded or resized copy keeps these 48 averages within a few levels.
 */
export function colourRgba(rgba: Uint8Array, width: number, height: number): string {
  return colourHex(rgbGrid(rgba, width, height, COLOUR_CELLS), COLOUR_CELLS);
}

/**
 * The verification thumbnail: `side`×`side` RGB over white, base64 (side 16: 768 bytes, 1,024
 * characters an image, about 100 MB at 100k images). Fine enough to undo a crop of a few percent
 * (`aligned-match.ts`); coarse enough that a re-encode moves it by a level or two.
 */
export function thumbRgba(rgba: Uint8Array, width: number, height: number, side: number): string {
  return thumbBase64(rgbGrid(rgba, width, height, side), side);
}

/** `colourRgba` from an RGB grid of `cells` (a multiple of 4) already computed. */
export function colourHex(grid: RgbGrid, cells: number): string {
  return Buffer.from(gridBytes(poolGrid(grid, cells, COLOUR_CELLS), COLOUR_CELLS)).toString("hex");
}

/** `thumbRgba` from an RGB grid of `cells` (a multiple of `side`) already computed. */
export function thumbBase64(grid: RgbGrid, cells: number, side = cells): string {
  return Buffer.from(gridBytes(poolGrid(grid, cells, side), side)).toString("base64");
}

/** Mean absolute difference of two colour thumbnails, in levels (0–255). */
export function colourDistance(a: string, b: string): number {
  const x = Buffer.from(a, "hex");
  const y = Buffer.from(b, "hex");
  let s = 0;
  for (let i = 0; i < x.length; i++) s += Math.abs(x[i]! - y[i]!);
  return s / Math.max(1, x.length);
}
