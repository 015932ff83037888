/**
 * Predictions, the confusion matrix and the per-class figures read off it. Counts may be weighted
 * (a bootstrap resample's multiplicities), so one implementation serves the point estimate and
 * every resample.
 */

/** The index of the largest of `k` values starting at `offset`; the first wins a tie. */
export function argmax(values: ArrayLike<number>, offset: number, k: number): number {
  let best = 0;
  for (let j = 1; j < k; j++) if (values[offset + j]! > values[offset + best]!) best = j;
  return best;
}

/** The argmax class of each row of `probs` (n × k, row-major). */
export function argmaxPredictions(probs: ArrayLike<number>, n: number, k: number): Int32Array {
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = argmax(probs, i * k, k);
  return out;
}

/** The binary decision of each row: `positive` when p(positive) ≥ threshold, `negative` otherwise. */
export function thresholdPredictions(probs: ArrayLike<number>, n: number, k: number, classes: { positive: number; negative: number }, threshold: number): Int32Array {
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = probs[i * k + classes.positive]! >= threshold ? classes.positive : classes.negative;
  return out;
}

/** confusion[true][predicted], each image counted `weights[i]` times (once without weights). */
export function confusionMatrix(labels: ArrayLike<number>, predicted: ArrayLike<number>, k: number, weights?: ArrayLike<number>): number[][] {
  const m = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  for (let i = 0; i < labels.length; i++) m[labels[i]!]![predicted[i]!]! += weights ? weights[i]! : 1;
  return m;
}

export interface ClassCounts {
  precision: number;
  recall: number;
  specificity: number;
  f1: number;
  support: number;
}

/**
 * Precision, recall, specificity and F1 of class `c` against the rest. A rate whose denominator is
 * zero is 0, as scikit-learn's `zero_division=0`, so macro averages stay defined.
 */
export function classCounts(confusion: number[][], c: number): ClassCounts {
  let total = 0;
  let predicted = 0;
  let support = 0;
  for (let t = 0; t < confusion.length; t++) {
    for (let p = 0; p < confusion.length; p++) total += confusion[t]![p]!;
    predicted += confusion[t]![c]!;
    support += confusion[c]![t]!;
  }
  const tp = confusion[c]![c]!;
  const fp = predicted - tp;
  const negatives = total - support;
  const precision = predicted ? tp / predicted : 0;
  const recall = support ? tp / support : 0;
  const specificity = negatives ? (negatives - fp) / negatives : 0;
  const f1 = precision + recall ? (2 * precision * recall) / (precision + recall) : 0;
  return { precision, recall, specificity, f1, support };
}

/** Share of the images on the diagonal; 0 for an empty matrix. */
export function accuracyOf(confusion: number[][]): number {
  let total = 0;
  let right = 0;
  for (let t = 0; t < confusion.length; t++) {
    right += confusion[t]![t]!;
    for (const v of confusion[t]!) total += v;
  }
  return total ? right / total : 0;
}

/** Mean F1 over every class, absent ones included (scikit-learn's macro average with zero_division=0). */
export function macroF1Of(confusion: number[][]): number {
  let sum = 0;
  for (let c = 0; c < confusion.length; c++) sum += classCounts(confusion, c).f1;
  return confusion.length ? sum / confusion.length : 0;
}

export const mean = (xs: number[]): number => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);
