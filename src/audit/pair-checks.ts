import { alignedError } from "./aligned-match";
import type { FeatureView } from "./feature-pairs";
import type { DuplicateFinding, ImageSignature } from "./types";

/** The tests a candidate pair of the near-duplicate search passes, cheapest first. */
export interface PairChecks {
  /** The 4×4 colour thumbnails are close (48 values). */
  screen(a: number, b: number): boolean;
  /** The feature cosine vouches for the pair: the finding, or undefined. */
  accept(a: number, b: number): DuplicateFinding | undefined;
  /** The 16×16 thumbnails, aligned over small crops, differ little: the dearest test. */
  keep(a: number, b: number): boolean;
}

/**
 * The checks over one dataset's signatures and features, by item index. `signatures` may have
 * holes (a sample's signatures placed at their items' indices): only pairs of items that have one
 * are checked. `inv` is each row's inverse norm; `t` the duplicate thresholds (duplicates.ts).
 */
export function pairChecks(
  signatures: ReadonlyArray<ImageSignature | undefined>, features: FeatureView, inv: Float64Array,
  t: { colourMaxDistance: number; confirmMinCosine: number; alignedMaxError: number },
): PairChecks {
  const colours = signatures.map((s) => (s?.colour ? Buffer.from(s.colour, "hex") : undefined));
  const thumbs = signatures.map((s) => (s?.thumb ? Buffer.from(s.thumb, "base64") : undefined));
  return {
    screen: (a, b) => {
      const [x, y] = [colours[a], colours[b]];
      return !x || !y || colourGap(x, y) <= t.colourMaxDistance;
    },
    accept: (a, b) => {
      const cos = dot(features, a, b) * inv[a]! * inv[b]!;
      return cos >= t.confirmMinCosine ? { a, b, kind: "near", similarity: Math.min(1, cos), signal: "features" } : undefined;
    },
    keep: (a, b) => {
      const [p, q] = [thumbs[a], thumbs[b]];
      return !p || !q || alignedError(p, q, { stopAt: t.alignedMaxError, giveUpAbove: t.alignedMaxError }) <= t.alignedMaxError;
    },
  };
}

/** The dot product of two rows of the view, raw. */
function dot(v: FeatureView, a: number, b: number): number {
  let s = 0;
  for (let c = 0, i = a * v.width + v.from, j = b * v.width + v.from; c < v.cols; c++, i++, j++) s += v.features[i]! * v.features[j]!;
  return s;
}

/** Mean absolute difference of two colour thumbnails (levels). */
function colourGap(x: Uint8Array, y: Uint8Array): number {
  if (x.length !== y.length) return Infinity;
  let s = 0;
  for (let i = 0; i < x.length; i++) s += Math.abs(x[i]! - y[i]!);
  return s / Math.max(1, x.length);
}
