/**
 * What evaluate writes to report.json (runs/<id>/report.json): the contract between the metrics
 * (evaluation/), the report page and plots (report/), the terminal summary, MLflow and the
 * exported model card. Every rate is in 0..1; a value that cannot be computed (AUC of a split
 * with one class) is null, never NaN.
 */

/** A point estimate with its bootstrap interval; `low`/`high` are null when intervals are off. */
export interface Estimate {
  value: number | null;
  low: number | null;
  high: number | null;
}

export interface ClassMetrics {
  precision: number;
  /** Recall is sensitivity: the share of this class's images predicted as it. */
  recall: number;
  specificity: number;
  f1: number;
  support: number;
  /** One-vs-rest ROC AUC; null when the split lacks positives or negatives of the class. */
  auc: number | null;
}

/** Points of a curve, for the plots: ROC (fpr, tpr) or precision-recall (recall, precision). */
export interface Curve {
  x: number[];
  y: number[];
  /** The score threshold at each point (same length as x). */
  thresholds: number[];
}

export interface ReliabilityBin {
  /** Bin bounds on the confidence (top-class probability, or the positive's for binary). */
  lo: number;
  hi: number;
  count: number;
  /** Mean confidence and observed accuracy (binary: observed positive rate) of the bin; null when empty. */
  confidence: number | null;
  accuracy: number | null;
}

export interface Calibration {
  /** Expected calibration error over `bins` equal-width bins, weighted by count. */
  ece: number;
  bins: ReliabilityBin[];
}

/** Sensitivity, specificity, PPV and NPV at one threshold on one split, with the counts. */
export interface OperatingPoint {
  threshold: number;
  tp: number;
  fp: number;
  tn: number;
  fn: number;
  sensitivity: Estimate;
  specificity: Estimate;
  /** null when nothing was predicted positive (PPV) or negative (NPV). */
  ppv: Estimate;
  npv: Estimate;
}

export interface BinaryReport {
  positive_class: string;
  negative_class: string;
  /** How the threshold was chosen: "0.5", "fixed", "youden" or "target_sensitivity=0.95". */
  rule: string;
  threshold: number;
  /** The point on the validation split, where the threshold was chosen. Null when val is empty. */
  val: OperatingPoint | null;
  /** The point on the evaluated split, at the threshold chosen on val. */
  test: OperatingPoint;
  auc: Estimate;
  roc: Curve;
  pr: Curve;
  /** Average precision (area under the PR curve, step-wise). */
  average_precision: number | null;
}

export type WarningKind = "collapse" | "low_recall" | "fine_tune_kept_head" | "threshold_unreached" | "target_missed" | "small_split";

export interface EvaluationWarning {
  kind: WarningKind;
  /** One plain sentence a person can act on. */
  message: string;
}

export interface EvaluationReport {
  /** The evaluated split ("test" or "val") and where the predictions came from. */
  split: string;
  source: string;
  classes: string[];
  n: number;
  accuracy: Estimate;
  macro_precision: number;
  macro_recall: number;
  macro_f1: Estimate;
  /** Macro one-vs-rest ROC AUC over classes that have positives and negatives. */
  macro_auc: Estimate;
  log_loss: number;
  per_class: Record<string, ClassMetrics>;
  /** confusion[true][predicted], at the operating threshold for a binary task, argmax otherwise. */
  confusion: number[][];
  calibration: Calibration;
  /** Per class one-vs-rest ROC curves (multi-class; binary has its own in `binary`). */
  roc: Record<string, Curve>;
  pr: Record<string, Curve>;
  binary: BinaryReport | null;
  bootstrap: {
    resamples: number;
    seed: number;
    confidence: number;
    /** Per metric, resamples left out of its interval because the metric was undefined on them
     *  (an AUC of a resample that drew no positive); absent when none were. */
    skipped?: Record<string, number>;
  };
  warnings: EvaluationWarning[];
  /** Which weights were evaluated: "fine-tune", or "head" when fine-tuning did not beat the head and tlrun kept the head's. */
  weights: "fine-tune" | "head";
  /** Grad-CAM panels written under plots/, most confident errors first; empty when off. */
  explain: Array<{ file: string; truth: string; predicted: string; probability: number; kind: "false_negative" | "false_positive" | "error" | "correct" }>;
}
