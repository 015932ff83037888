import type { Split } from "../data/scan";
import { exactDuplicates } from "./exact-duplicates";
import { featurePairs, type FeatureView } from "./feature-pairs";
import { hashPairs } from "./hash-pairs";
import type { DuplicateFinding, ImageSignature } from "./types";

/** The duplicate finders' thresholds; docs/audit.md gives the measurements behind the defaults. */
export interface DuplicateThresholds {
  /** Largest perceptual-hash Hamming distance (of 64 bits) that still counts as the same picture. */
  phashMaxDistance: number;
  /** Smallest feature cosine that counts as the same picture when the hash does not (≥ 1 turns the feature search off). */
  featureMinCosine: number;
}

export const DUPLICATE_DEFAULTS: DuplicateThresholds = { phashMaxDistance: 10, featureMinCosine: 0.95 };

/**
 * Exact duplicates anywhere, then near duplicates across splits by hash, then by features for
 * what the hash missed. A pair found by several signals is reported once, by the most certain
 * (pixels, then hash, then features); sorted by pair.
 */
export function findDuplicates(
  items: ReadonlyArray<{ split: Split }>, signatures: readonly ImageSignature[], features: FeatureView, t: DuplicateThresholds,
): { findings: DuplicateFinding[]; seconds: Record<string, number> } {
  const seconds: Record<string, number> = {};
  const timed = <T>(name: string, fn: () => T): T => {
    const t0 = performance.now();
    try {
      return fn();
    } finally {
      seconds[name] = (performance.now() - t0) / 1000;
    }
  };
  const found = new Map<string, DuplicateFinding>();
  const add = (list: DuplicateFinding[]): void => {
    for (const f of list) if (!found.has(`${f.a},${f.b}`)) found.set(`${f.a},${f.b}`, f);
  };
  add(timed("exact_duplicates", () => exactDuplicates(items, signatures)));
  add(timed("phash_pairs", () => hashPairs(items, signatures, t.phashMaxDistance)));
  if (t.featureMinCosine < 1) add(timed("feature_pairs", () => featurePairs(items, features, t.featureMinCosine)));
  return { findings: [...found.values()].sort((x, y) => x.a - y.a || x.b - y.b), seconds };
}
