/**
 * ROC and precision-recall curves, ROC AUC and average precision of one score against a binary
 * truth (a class against the rest). Definitions follow scikit-learn's, so figures can be checked
 * against it. The AUC is computed over a sort done once ({@link rankedScores}) with per-image
 * weights, so a bootstrap resample costs one pass, not one sort.
 */
import type { Curve } from "./types";

/** A score column and its binary truth, sorted ascending by score once, with the runs of tied scores marked. */
export interface RankedScores {
  /** Image indices in ascending score order. */
  order: Int32Array;
  /** Start of each run of equal scores in `order`, then `order.length`. */
  bounds: Int32Array;
  /** Whether the image at each sorted position is positive (1) or not (0). */
  positive: Uint8Array;
}

export function rankedScores(scores: ArrayLike<number>, positive: ArrayLike<boolean | number>): RankedScores {
  const order = Int32Array.from({ length: scores.length }, (_, i) => i).sort((a, b) => scores[a]! - scores[b]!);
  const bounds: number[] = [];
  for (let t = 0; t < order.length; t++) if (t === 0 || scores[order[t]!] !== scores[order[t - 1]!]) bounds.push(t);
  bounds.push(order.length);
  return { order, bounds: Int32Array.from(bounds), positive: Uint8Array.from(order, (i) => (positive[i] ? 1 : 0)) };
}

/**
 * ROC AUC as the Mann-Whitney U statistic: the chance that a positive outscores a negative, ties
 * counting half. Image i counts `weights[i]` times (once when weights is null). Null without both
 * a positive and a negative. Typed arrays only, so this inner loop of the bootstrap stays fast.
 */
export function weightedAuc(ranked: RankedScores, weights: Int32Array | null): number | null {
  const { order, bounds, positive } = ranked;
  let negBelow = 0;
  let pos = 0;
  let wins = 0;
  for (let g = 0; g + 1 < bounds.length; g++) {
    let posG = 0;
    let negG = 0;
    for (let t = bounds[g]!; t < bounds[g + 1]!; t++) {
      const w = weights ? weights[order[t]!]! : 1;
      if (positive[t]) posG += w;
      else negG += w;
    }
    wins += posG * (negBelow + negG / 2);
    negBelow += negG;
    pos += posG;
  }
  return pos > 0 && negBelow > 0 ? wins / (pos * negBelow) : null;
}

/** Area under the ROC curve for binary labels, with ties counted as half (Mann-Whitney U). */
export function rocAuc(scores: ArrayLike<number>, positive: ArrayLike<boolean | number>): number | null {
  return weightedAuc(rankedScores(scores, positive), null);
}

/** One point per distinct score, highest first: the counts of images scoring ≥ it. */
function cumulative(scores: ArrayLike<number>, positive: ArrayLike<boolean | number>): { tp: number[]; fp: number[]; thresholds: number[]; pos: number; neg: number } {
  const { order, bounds, positive: sortedPositive } = rankedScores(scores, positive);
  const tp: number[] = [];
  const fp: number[] = [];
  const thresholds: number[] = [];
  let t = 0;
  let f = 0;
  for (let g = bounds.length - 2; g >= 0; g--) {
    for (let r = bounds[g]!; r < bounds[g + 1]!; r++) {
      if (sortedPositive[r]) t++;
      else f++;
    }
    tp.push(t);
    fp.push(f);
    thresholds.push(scores[order[bounds[g]!]!]!);
  }
  return { tp, fp, thresholds, pos: t, neg: f };
}

/**
 * The threshold of the first point, where nothing is predicted positive: above every score. JSON
 * has no Infinity (scikit-learn's since 1.3), so this is the highest score + 1, as it was before.
 */
const above = (thresholds: number[]): number => (thresholds.length ? thresholds[0]! + 1 : 1);

/** ROC curve: x = false-positive rate, y = true-positive rate, from (0, 0). Empty without both classes. */
export function rocCurve(scores: ArrayLike<number>, positive: ArrayLike<boolean | number>): Curve {
  const c = cumulative(scores, positive);
  if (!c.pos || !c.neg) return { x: [], y: [], thresholds: [] };
  return {
    x: [0, ...c.fp.map((f) => f / c.neg)],
    y: [0, ...c.tp.map((t) => t / c.pos)],
    thresholds: [above(c.thresholds), ...c.thresholds],
  };
}

/**
 * Precision-recall curve: x = recall, y = precision, from (0, 1) with thresholds descending (the
 * reverse of scikit-learn's arrays). Empty without a positive.
 */
export function prCurve(scores: ArrayLike<number>, positive: ArrayLike<boolean | number>): Curve {
  const c = cumulative(scores, positive);
  if (!c.pos) return { x: [], y: [], thresholds: [] };
  return {
    x: [0, ...c.tp.map((t) => t / c.pos)],
    y: [1, ...c.tp.map((t, i) => t / (t + c.fp[i]!))],
    thresholds: [above(c.thresholds), ...c.thresholds],
  };
}

/**
 * Average precision as scikit-learn defines it: the sum over thresholds of the recall gained times
 * the precision there, a step function with no interpolation. Null without a positive.
 */
export function averagePrecision(scores: ArrayLike<number>, positive: ArrayLike<boolean | number>): number | null {
  const c = cumulative(scores, positive);
  if (!c.pos) return null;
  let ap = 0;
  let prevRecall = 0;
  c.tp.forEach((t, i) => {
    const recall = t / c.pos;
    ap += (recall - prevRecall) * (t / (t + c.fp[i]!));
    prevRecall = recall;
  });
  return ap;
}

/**
 * At most `max` points of a curve for plotting (report.json stores them). Points in the middle of
 * a straight run are dropped first (scikit-learn's `drop_intermediate`), which loses nothing; if
 * still too many, points are kept evenly spaced along the curve's length, so steps and corners
 * keep their place. The first and last points are always kept.
 */
export function capCurve(curve: Curve, max = 200): Curve {
  let keep = straightRunsDropped(curve);
  if (keep.length > max) keep = evenlyAlong(curve, keep, max);
  return { x: keep.map((i) => curve.x[i]!), y: keep.map((i) => curve.y[i]!), thresholds: keep.map((i) => curve.thresholds[i]!) };
}

function straightRunsDropped(c: Curve): number[] {
  const n = c.x.length;
  const keep: number[] = [];
  for (let i = 0; i < n; i++) {
    if (i > 0 && i < n - 1) {
      const [a, b] = [keep[keep.length - 1]!, i + 1];
      const cross = (c.x[i]! - c.x[a]!) * (c.y[b]! - c.y[a]!) - (c.y[i]! - c.y[a]!) * (c.x[b]! - c.x[a]!);
      if (Math.abs(cross) < 1e-12) continue;
    }
    keep.push(i);
  }
  return keep;
}

/**
 * Keeps a point once the curve has run `spacing` past the last kept one; the spacing is the
 * smallest (found by bisection) that keeps at most `max`. A long straight step needs no points
 * inside it, so its length does not use up the budget as fixed spacing would.
 */
function evenlyAlong(c: Curve, idx: number[], max: number): number[] {
  const along = [0];
  for (let j = 1; j < idx.length; j++) along.push(along[j - 1]! + Math.hypot(c.x[idx[j]!]! - c.x[idx[j - 1]!]!, c.y[idx[j]!]! - c.y[idx[j - 1]!]!));
  const walk = (spacing: number): number[] => {
    const out = [0];
    for (let j = 1; j < idx.length - 1; j++) if (along[j]! - along[out[out.length - 1]!]! >= spacing) out.push(j);
    out.push(idx.length - 1);
    return out;
  };
  let lo = 0;
  let hi = along[along.length - 1]!;
  for (let step = 0; step < 50; step++) {
    const mid = (lo + hi) / 2;
    if (walk(mid).length > max) lo = mid;
    else hi = mid;
  }
  return walk(hi).map((j) => idx[j]!);
}
