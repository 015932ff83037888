import { THUMB_SIDE } from "./aligned-match";
import { PHASH_GRID, phashOfLuma } from "./phash";
import { lumaOf, rgbGrid } from "./pixel-grids";
import { colourHex, thumbBase64 } from "./thumbnails";
import type { ImageSignature } from "./types";

/**
 * The perceptual hash and both colour thumbnails of decoded RGBA pixels from one walk over them:
 * the 32×32 RGB grid over white, whose luma is the hash's grid and whose 2×2 and 8×8 block
 * averages are the 16×16 and 4×4 thumbnails. Equal, up to float rounding, to `phashRgba`,
 * `thumbRgba` and `colourRgba` each reducing the full picture (`pixel-grids.ts` says why); the
 * walk over the pixels is the signature's cost, so it is made once, not seven times.
 */
export function perceptualSignature(rgba: Uint8Array, width: number, height: number): Omit<ImageSignature, "pixels"> {
  const grid = rgbGrid(rgba, width, height, PHASH_GRID);
  return { phash: phashOfLuma(lumaOf(grid, PHASH_GRID)), colour: colourHex(grid, PHASH_GRID), thumb: thumbBase64(grid, PHASH_GRID, THUMB_SIDE) };
}
