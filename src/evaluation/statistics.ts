/**
 * The statistics the report's intervals are taken of, as functions of per-image weights: the point
 * estimate is the statistic with every weight 1, a bootstrap resample the same statistic with the
 * resample's multiplicities. Sorting for the AUCs happens once, when the statistic is built.
 */
import type { Statistic } from "./bootstrap";
import { accuracyOf, confusionMatrix, macroF1Of } from "./confusion";
import { rankedScores, weightedAuc, type RankedScores } from "./curves";

/** One-vs-rest score columns of `probs` (n × k, row-major) against `labels`, each ranked once. */
export function oneVsRest(labels: ArrayLike<number>, probs: ArrayLike<number>, k: number): RankedScores[] {
  const n = labels.length;
  return Array.from({ length: k }, (_, c) =>
    rankedScores(
      Float64Array.from({ length: n }, (_, i) => probs[i * k + c]!),
      Uint8Array.from({ length: n }, (_, i) => (labels[i] === c ? 1 : 0)),
    ),
  );
}

/**
 * accuracy, macro_f1 and macro_auc of fixed predictions. macro_auc averages the classes in
 * `aucClasses` (those with an AUC on the full split); a resample on which one of them has no AUC
 * gives no macro_auc, so every resample measures the same average.
 */
export function classificationStatistic(labels: ArrayLike<number>, predicted: ArrayLike<number>, k: number, columns: RankedScores[], aucClasses: number[]): Statistic {
  return (weights) => {
    const confusion = confusionMatrix(labels, predicted, k, weights);
    let sum = 0;
    let defined = true;
    for (const c of aucClasses) {
      const auc = weightedAuc(columns[c]!, weights);
      if (auc === null) defined = false;
      else sum += auc;
    }
    return {
      accuracy: accuracyOf(confusion),
      macro_f1: macroF1Of(confusion),
      macro_auc: defined && aucClasses.length ? sum / aucClasses.length : null,
    };
  };
}

/** Binary truth and decisions as flags, positive = 1. */
export interface BinaryOutcomes {
  truth: Uint8Array;
  decision: Uint8Array;
}

/** tp, fp, tn, fn of binary outcomes, each image counted `weights[i]` times (once without weights). */
export function binaryCounts(o: BinaryOutcomes, weights?: ArrayLike<number>): { tp: number; fp: number; tn: number; fn: number } {
  const cells = [0, 0, 0, 0];
  for (let i = 0; i < o.truth.length; i++) cells[o.truth[i]! * 2 + o.decision[i]!]! += weights ? weights[i]! : 1;
  const [tn, fp, fn, tp] = cells as [number, number, number, number];
  return { tp, fp, tn, fn };
}

/** sensitivity, specificity, PPV, NPV of binary counts; null where the denominator is zero. */
export function binaryRates(c: { tp: number; fp: number; tn: number; fn: number }): Record<"sensitivity" | "specificity" | "ppv" | "npv", number | null> {
  const ratio = (a: number, b: number): number | null => (a + b ? a / (a + b) : null);
  return { sensitivity: ratio(c.tp, c.fn), specificity: ratio(c.tn, c.fp), ppv: ratio(c.tp, c.fp), npv: ratio(c.tn, c.fn) };
}

/** The four rates at fixed decisions, and the AUC of the positive's score when `column` is given. */
export function binaryStatistic(o: BinaryOutcomes, column?: RankedScores): Statistic {
  return (weights) => ({
    ...binaryRates(binaryCounts(o, weights)),
    ...(column ? { auc: weightedAuc(column, weights) } : {}),
  });
}
