/**
 * Sensitivity, specificity, PPV and NPV of a binary task at one threshold on one split, with their
 * bootstrap intervals: what a screening decision at that threshold gives.
 */
import { bootstrap, estimate, type BootstrapOptions, type BootstrapResult } from "./bootstrap";
import { binaryCounts, binaryRates, binaryStatistic, type BinaryOutcomes } from "./statistics";
import type { Scored } from "./threshold";
import type { OperatingPoint } from "./types";

/** Truth and decisions (positive when score ≥ threshold) as flags. */
export function outcomesAt(split: Scored, threshold: number): BinaryOutcomes {
  const n = split.scores.length;
  return {
    truth: Uint8Array.from({ length: n }, (_, i) => (split.positive[i] ? 1 : 0)),
    decision: Uint8Array.from({ length: n }, (_, i) => (split.scores[i]! >= threshold ? 1 : 0)),
  };
}

/** The operating point of `split` at `threshold`; intervals when `opts` asks for resamples. */
export function operatingPoint(split: Scored, threshold: number, opts: BootstrapOptions): OperatingPoint {
  const outcomes = outcomesAt(split, threshold);
  return operatingPointOf(outcomes, threshold, bootstrap(outcomes.truth.length, opts, binaryStatistic(outcomes)));
}

/** The operating point of outcomes already decided at `threshold`, with intervals from `ci` (a bootstrap of {@link binaryStatistic}). */
export function operatingPointOf(outcomes: BinaryOutcomes, threshold: number, ci: BootstrapResult | null): OperatingPoint {
  const counts = binaryCounts(outcomes);
  const rates = binaryRates(counts);
  return {
    threshold,
    ...counts,
    sensitivity: estimate(rates.sensitivity, ci, "sensitivity"),
    specificity: estimate(rates.specificity, ci, "specificity"),
    ppv: estimate(rates.ppv, ci, "ppv"),
    npv: estimate(rates.npv, ci, "npv"),
  };
}
