import type { Split } from "../data/scan";
import { exactDuplicates } from "./exact-duplicates";
import { featurePairs, type FeatureView } from "./feature-pairs";
import { hashPairs } from "./hash-pairs";
import { neighbourPairs } from "./neighbour-pairs";
import { pairChecks } from "./pair-checks";
import { nearestNeighbours, type Neighbours } from "./neighbours";
import { inverseNorms, unitRows } from "./standardise";
import type { DuplicateFinding, ImageSignature } from "./types";
import { stopwatch } from "./stopwatch";

/** The duplicate finders' thresholds; docs/audit.md gives the measurements behind the defaults. */
export interface DuplicateThresholds {
  /** Largest perceptual-hash Hamming distance (of 64 bits) that still counts as the same picture. */
  phashMaxDistance: number;
  /** A pair up to this distance counts when its feature cosine is at least `confirmMinCosine` (a crop moves the hash more than a re-encode does). */
  phashConfirmDistance: number;
  confirmMinCosine: number;
  /** A hash pair whose 4×4 colour thumbnails differ by more than this mean (levels of 255) is two pictures with one layout, not one picture: the cheap check before the aligned one. */
  colourMaxDistance: number;
  /** A candidate pair is kept only when its 16×16 thumbnails, aligned over small crops, differ by at most this mean (levels of 255): one picture, re-encoded, resized or cropped. */
  alignedMaxError: number;
  /** Feature cosine that counts alone, whatever the hash says (≥ 1 turns that search off). */
  featureMinCosine: number;
}

export const DUPLICATE_DEFAULTS: DuplicateThresholds = {
  phashMaxDistance: 10, phashConfirmDistance: 22, confirmMinCosine: 0.8, colourMaxDistance: 20, alignedMaxError: 6, featureMinCosine: 1,
};

/** Neighbours an image when the caller has no lists of its own to lend. */
const CANDIDATE_NEIGHBOURS = 20;

/**
 * Exact duplicates anywhere, then near duplicates across splits: candidates by hash (every pair
 * within `phashMaxDistance`), and from each image's feature neighbours (`neighbours`, the lists the
 * label finder uses, computed here when not given) those a little further apart in hash whose
 * feature cosine vouches for them; each verified by its colour thumbnails
 * (the 4×4 ones first, cheaply, then the 16×16 ones aligned over small crops), then by features
 * alone when that search is on. A pair found by several signals is reported once, by the most certain
 * (pixels, then hash, then features); sorted by pair.
 */
export function findDuplicates(
  items: ReadonlyArray<{ split: Split }>, signatures: readonly ImageSignature[], features: FeatureView, t: DuplicateThresholds, tick?: () => void,
  neighbours?: Neighbours, onPhase?: (name: string) => void,
): { findings: DuplicateFinding[]; seconds: Record<string, number> } {
  const seconds: Record<string, number> = {};
  const timed = stopwatch(seconds, onPhase);
  const found = new Map<string, DuplicateFinding>();
  const add = (list: DuplicateFinding[]): void => {
    for (const f of list) if (!found.has(`${f.a},${f.b}`)) found.set(`${f.a},${f.b}`, f);
  };
  add(timed("exact_duplicates", () => exactDuplicates(items, signatures)));
  const inv = timed("feature_norms", () => inverseNorms(features));
  const { screen, accept, keep } = pairChecks(signatures, features, inv, t);
  add(timed("phash_pairs", () => hashPairs(items, signatures, t.phashMaxDistance, keep, screen, tick)));
  if (t.phashConfirmDistance > t.phashMaxDistance) {
    const nb = neighbours ?? timed("neighbours", () => nearestNeighbours(unitRows(features), features.cols, CANDIDATE_NEIGHBOURS, tick ? { tick } : {}));
    const band = { fromDistance: t.phashMaxDistance, toDistance: t.phashConfirmDistance };
    add(timed("confirm_pairs", () => neighbourPairs(items, signatures, nb, band, accept, keep, screen, tick)));
  }
  if (t.featureMinCosine < 1) add(timed("feature_pairs", () => featurePairs(items, features, t.featureMinCosine)));
  return { findings: [...found.values()].sort((x, y) => x.a - y.a || x.b - y.b), seconds };
}
