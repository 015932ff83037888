import type { Interpolation } from "../config/types";

/** How an image is decoded: shared by decode.ts, its PNG fast path and its worker pool. */
export interface DecodeOptions {
  /** [height, width] of the output. */
  size: [number, number];
  colorMode: "rgb" | "grayscale";
  /** Images whose header declares more pixels than this are refused before decoding. */
  maxPixels: number;
  /** Resampling kernel; antialiased when shrinking. */
  interpolation: Interpolation;
}
