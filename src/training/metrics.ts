/**
 * Classification metrics computed from labels and predicted probabilities, in plain JS so they
 * can be unit-tested against hand-worked examples.
 */

export interface ClassReport {
  precision: number;
  recall: number;
  f1: number;
  support: number;
  auc: number | null;
}

export interface EvaluationReport {
  classes: string[];
  n: number;
  accuracy: number;
  macro_precision: number;
  macro_recall: number;
  macro_f1: number;
  /** Macro average of one-vs-rest ROC AUC over classes that have both positives and negatives. */
  macro_auc: number | null;
  log_loss: number;
  per_class: Record<string, ClassReport>;
  /** confusion[true][predicted] */
  confusion: number[][];
}

function argmax(row: ArrayLike<number>, offset: number, k: number): number {
  let best = 0;
  for (let j = 1; j < k; j++) if (row[offset + j]! > row[offset + best]!) best = j;
  return best;
}

/** Area under the ROC curve for binary labels, with ties counted as half (Mann-Whitney U). */
export function rocAuc(scores: number[], positive: boolean[]): number | null {
  const pos = positive.filter(Boolean).length;
  const neg = positive.length - pos;
  if (pos === 0 || neg === 0) return null;
  const order = scores.map((s, i) => [s, i] as const).sort((a, b) => a[0] - b[0]);
  let rankSumPos = 0;
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j + 1 < order.length && order[j + 1]![0] === order[i]![0]) j++;
    const avgRank = (i + j) / 2 + 1;
    for (let t = i; t <= j; t++) if (positive[order[t]![1]]) rankSumPos += avgRank;
    i = j + 1;
  }
  return (rankSumPos - (pos * (pos + 1)) / 2) / (pos * neg);
}

/** Evaluate probabilities `probs` (n × k, row-major) against integer labels. */
export function evaluateClassifier(labels: ArrayLike<number>, probs: ArrayLike<number>, classes: string[]): EvaluationReport {
  const k = classes.length;
  const n = labels.length;
  const confusion = classes.map(() => new Array<number>(k).fill(0));
  let correct = 0;
  let logLoss = 0;
  for (let i = 0; i < n; i++) {
    const y = labels[i]!;
    const p = argmax(probs, i * k, k);
    confusion[y]![p]!++;
    if (p === y) correct++;
    logLoss -= Math.log(Math.max(probs[i * k + y]!, 1e-12));
  }
  const per_class: Record<string, ClassReport> = {};
  const aucs: number[] = [];
  classes.forEach((name, c) => {
    const tp = confusion[c]![c]!;
    const predicted = confusion.reduce((s, row) => s + row[c]!, 0);
    const support = confusion[c]!.reduce((s, v) => s + v, 0);
    const precision = predicted ? tp / predicted : 0;
    const recall = support ? tp / support : 0;
    const f1 = precision + recall ? (2 * precision * recall) / (precision + recall) : 0;
    const scores = Array.from({ length: n }, (_, i) => probs[i * k + c]!);
    const auc = rocAuc(scores, Array.from({ length: n }, (_, i) => labels[i] === c));
    if (auc !== null) aucs.push(auc);
    per_class[name] = { precision, recall, f1, support, auc };
  });
  const mean = (xs: number[]): number => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);
  const reports = Object.values(per_class);
  return {
    classes,
    n,
    accuracy: n ? correct / n : 0,
    macro_precision: mean(reports.map((r) => r.precision)),
    macro_recall: mean(reports.map((r) => r.recall)),
    macro_f1: mean(reports.map((r) => r.f1)),
    macro_auc: aucs.length ? mean(aucs) : null,
    log_loss: n ? logLoss / n : 0,
    per_class,
    confusion,
  };
}
