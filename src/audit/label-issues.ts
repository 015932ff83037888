import { stratifiedFolds } from "./folds";
import { nearestNeighbours, type Neighbours } from "./neighbours";
import { outOfFoldProbabilities, type ProbeOptions } from "./probe";
import type { LabelIssueFinding } from "./types";

export interface LabelIssueOptions {
  folds: number;
  probe: ProbeOptions;
  /** Neighbours whose labels vote in the kNN half of the ensemble; 0 uses the probe alone. */
  knn: number;
  /** Weight of the probe in the ensemble; the kNN vote takes the rest. */
  probeWeight: number;
}

/**
 * Likely label errors, most doubtful first, in the manner of confident learning (Northcutt et al.
 * 2021): out-of-sample probabilities p (a k-fold linear probe, blended with a kNN label vote),
 * per-class thresholds t_j = mean p_j over the items labelled j, and an item is an issue when some
 * other class j clears its threshold and is the likeliest of those that do (an off-diagonal entry
 * of the confident joint). Ranked by self-confidence p_label, lowest first: on planted flips in
 * the emoji features it put 37–38 of 57 in the top 2F against 27–31 for the normalized margin
 * (docs/audit.md).
 * `x` is n × d standardised rows (unit length when `knn` > 0, so the neighbour search is cosine).
 */
export function labelIssues(
  x: Float32Array, d: number, labels: Int32Array, classes: number, seed: number, opts: LabelIssueOptions, neighbours?: Neighbours,
): { issues: LabelIssueFinding[]; probabilities: Float32Array } {
  const n = labels.length;
  const folds = stratifiedFolds(labels, opts.folds, seed);
  const p = outOfFoldProbabilities(x, d, labels, classes, folds, opts.probe);
  if (opts.knn > 0 && opts.probeWeight < 1) {
    const nb = neighbours && neighbours.k >= opts.knn ? neighbours : nearestNeighbours(x, d, opts.knn);
    const vote = knnVote(nb, opts.knn, labels, classes);
    for (let i = 0; i < p.length; i++) p[i] = opts.probeWeight * p[i]! + (1 - opts.probeWeight) * vote[i]!;
  }
  const threshold = new Float64Array(classes);
  const count = new Float64Array(classes);
  for (let i = 0; i < n; i++) {
    threshold[labels[i]!] += p[i * classes + labels[i]!]!;
    count[labels[i]!]++;
  }
  for (let c = 0; c < classes; c++) threshold[c] = count[c]! > 0 ? threshold[c]! / count[c]! : 1;
  const issues: LabelIssueFinding[] = [];
  for (let i = 0; i < n; i++) {
    const row = p.subarray(i * classes, (i + 1) * classes);
    const label = labels[i]!;
    let confident = -1;
    for (let c = 0; c < classes; c++) if (row[c]! >= threshold[c]! && (confident < 0 || row[c]! > row[confident]!)) confident = c;
    if (confident < 0 || confident === label) continue;
    issues.push({ index: i, label, suggested: confident, score: row[label]! });
  }
  issues.sort((a, b) => a.score - b.score || a.index - b.index);
  return { issues, probabilities: p };
}

/**
 * Each item's neighbours' labels as a distribution, weighted by cosine and smoothed toward
 * uniform (one neighbour's label in k is weak evidence): n × classes.
 */
export function knnVote(nb: Neighbours, k: number, labels: Int32Array, classes: number): Float32Array {
  const n = labels.length;
  const out = new Float32Array(n * classes);
  const prior = 1 / classes;
  for (let i = 0; i < n; i++) {
    let total = prior * classes; // one pseudo-vote spread evenly
    for (let c = 0; c < classes; c++) out[i * classes + c] = prior;
    for (let j = 0; j < k; j++) {
      const w = Math.max(0, nb.cosine[i * nb.k + j]!);
      out[i * classes + labels[nb.index[i * nb.k + j]!]!] += w;
      total += w;
    }
    for (let c = 0; c < classes; c++) out[i * classes + c]! /= total;
  }
  return out;
}
