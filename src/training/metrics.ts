/**
 * The quick per-class metrics train-head logs for the head it trained (argmax, no intervals). The
 * arithmetic is evaluation/'s, so these figures are the same as report.json's for the same
 * predictions; evaluation/report.ts builds the full report.
 */
import { argmaxPredictions, classCounts, confusionMatrix, accuracyOf, mean } from "../evaluation/confusion";
import { rocAuc } from "../evaluation/curves";
import { logLoss } from "../evaluation/report";

export interface ClassReport {
  precision: number;
  recall: number;
  f1: number;
  support: number;
  auc: number | null;
}

export interface ClassifierMetrics {
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

/** Evaluate probabilities `probs` (n × k, row-major) against integer labels, by argmax. */
export function evaluateClassifier(labels: ArrayLike<number>, probs: ArrayLike<number>, classes: string[]): ClassifierMetrics {
  const k = classes.length;
  const n = labels.length;
  const confusion = confusionMatrix(labels, argmaxPredictions(probs, n, k), k);
  const per_class: Record<string, ClassReport> = {};
  const aucs: number[] = [];
  classes.forEach((name, c) => {
    const { precision, recall, f1, support } = classCounts(confusion, c);
    const auc = rocAuc(
      Float64Array.from({ length: n }, (_, i) => probs[i * k + c]!),
      Array.from({ length: n }, (_, i) => labels[i] === c),
    );
    if (auc !== null) aucs.push(auc);
    per_class[name] = { precision, recall, f1, support, auc };
  });
  const reports = Object.values(per_class);
  return {
    classes,
    n,
    accuracy: accuracyOf(confusion),
    macro_precision: mean(reports.map((r) => r.precision)),
    macro_recall: mean(reports.map((r) => r.recall)),
    macro_f1: mean(reports.map((r) => r.f1)),
    macro_auc: aucs.length ? mean(aucs) : null,
    log_loss: logLoss(labels, probs, k),
    per_class,
    confusion,
  };
}
