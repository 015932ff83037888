/**
 * Calibration: do the probabilities mean what they say? Images are binned by confidence into
 * equal-width bins over [0, 1] (the last bin includes 1), and each bin's mean confidence is set
 * against what was observed in it. The expected calibration error (ECE) is the count-weighted mean
 * gap |observed - confidence| over the bins.
 */
import type { BinaryClasses } from "./binary";
import { argmax } from "./confusion";
import type { Calibration, ReliabilityBin } from "./types";

export const CALIBRATION_BINS = 10;

/**
 * Multi-class (binary null): confidence is the top class's probability and observed is whether
 * that argmax class is right (Guo et al. 2017). Binary: confidence is the positive class's
 * probability and observed is whether the image is positive, so the bins read as "of the images
 * given 0.8, how many were positive" and the threshold plays no part.
 */
export function calibration(labels: ArrayLike<number>, probs: ArrayLike<number>, k: number, binary: BinaryClasses | null, bins = CALIBRATION_BINS): Calibration {
  const count = new Array<number>(bins).fill(0);
  const confSum = new Array<number>(bins).fill(0);
  const hitSum = new Array<number>(bins).fill(0);
  const n = labels.length;
  for (let i = 0; i < n; i++) {
    let confidence: number;
    let hit: boolean;
    if (binary) {
      confidence = probs[i * k + binary.positive]!;
      hit = labels[i] === binary.positive;
    } else {
      const top = argmax(probs, i * k, k);
      confidence = probs[i * k + top]!;
      hit = top === labels[i];
    }
    const b = Math.min(bins - 1, Math.max(0, Math.floor(confidence * bins)));
    count[b]!++;
    confSum[b]! += confidence;
    if (hit) hitSum[b]!++;
  }
  let ece = 0;
  const out: ReliabilityBin[] = count.map((c, b) => {
    const confidence = c ? confSum[b]! / c : null;
    const accuracy = c ? hitSum[b]! / c : null;
    if (c) ece += (c / n) * Math.abs(accuracy! - confidence!);
    return { lo: b / bins, hi: (b + 1) / bins, count: c, confidence, accuracy };
  });
  return { ece, bins: out };
}
