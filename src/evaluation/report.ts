/**
 * report.json's evaluation, from labels and predicted probabilities: everything in
 * evaluation/types.ts except the Grad-CAM panels (`explain`), which need the model and are added
 * by the evaluate stage.
 */
import type { EvaluateConfig } from "../config/schema-types";
import { binaryClasses, type BinaryClasses } from "./binary";
import { bootstrap, estimate, type BootstrapOptions, type BootstrapResult } from "./bootstrap";
import { calibration } from "./calibration";
import { argmaxPredictions, classCounts, confusionMatrix, mean, thresholdPredictions } from "./confusion";
import { averagePrecision, capCurve, prCurve, rocCurve, weightedAuc } from "./curves";
import { operatingPoint, operatingPointOf, outcomesAt } from "./operating-point";
import { binaryStatistic, classificationStatistic, oneVsRest } from "./statistics";
import { chooseThreshold, type Scored } from "./threshold";
import type { BinaryReport, ClassMetrics, Curve, EvaluationReport, EvaluationWarning } from "./types";
import { evaluationWarnings } from "./warnings";

/** The intervals' coverage. */
export const CONFIDENCE = 0.95;

export interface EvaluationInput {
  /** The evaluated split ("test" or "val") and where its predictions came from. */
  split: string;
  source: string;
  classes: string[];
  labels: ArrayLike<number>;
  /** n × k probabilities, row-major, in the order of `classes`. */
  probs: ArrayLike<number>;
  /** The validation split's predictions, where a binary task's threshold is chosen. */
  val?: { labels: ArrayLike<number>; probs: ArrayLike<number> };
  config: Pick<EvaluateConfig, "positive_class" | "negative_class" | "threshold" | "bootstrap" | "recall_floor">;
  seed: number;
  weights: EvaluationReport["weights"];
  /** Training already weighted or resampled the classes: the warnings then suggest other fixes. */
  balanced?: boolean;
}

export function evaluationReport(input: EvaluationInput): EvaluationReport {
  const { classes, labels, probs, config } = input;
  const k = classes.length;
  const n = labels.length;
  checkShape(labels, probs, k, input.split);
  if (input.val) checkShape(input.val.labels, input.val.probs, k, "val");
  const binary = binaryClasses(classes, config);
  const opts: BootstrapOptions = { resamples: config.bootstrap, seed: input.seed, confidence: CONFIDENCE, label: input.split };
  const chosen = binary ? chooseThreshold(config.threshold, input.val ? scored(input.val.labels, input.val.probs, k, binary) : null, classes[binary.positive]!) : null;
  const predicted = binary && chosen ? thresholdPredictions(probs, n, k, binary, chosen.threshold) : argmaxPredictions(probs, n, k);

  const confusion = confusionMatrix(labels, predicted, k);
  const columns = oneVsRest(labels, probs, k);
  const counts = classes.map((_, c) => classCounts(confusion, c));
  const aucs = columns.map((col) => weightedAuc(col, null));
  const aucClasses = aucs.flatMap((a, c) => (a === null ? [] : [c]));
  const test = binary && chosen ? outcomesAt(scored(labels, probs, k, binary), chosen.threshold) : null;
  const classification = classificationStatistic(labels, predicted, k, columns, aucClasses);
  const rates = test && binary ? binaryStatistic(test, columns[binary.positive]) : null;
  const ci = bootstrap(n, opts, rates ? (w) => ({ ...classification(w), ...rates(w) }) : classification);
  const point = classification(new Int32Array(n).fill(1));

  const per_class: Record<string, ClassMetrics> = {};
  classes.forEach((name, c) => (per_class[name] = { ...counts[c]!, auc: aucs[c]! }));
  const warnings: EvaluationWarning[] = [
    ...(chosen?.warning ? [chosen.warning] : []),
    ...evaluationWarnings({ split: input.split, classes, labels, predicted, perClass: counts, recallFloor: config.recall_floor, binary, balanced: input.balanced ?? false }),
  ];
  const binaryPart = binary && chosen && test ? binaryReport(input, binary, chosen, test, aucs[binary.positive]!, ci, opts) : null;
  const missed = binaryPart ? targetMissed(config.threshold, binaryPart, input.split) : undefined;
  if (missed) warnings.unshift(missed);
  return {
    split: input.split,
    source: input.source,
    classes,
    n,
    accuracy: estimate(n ? point.accuracy! : null, ci, "accuracy"),
    macro_precision: mean(counts.map((c) => c.precision)),
    macro_recall: mean(counts.map((c) => c.recall)),
    macro_f1: estimate(n ? point.macro_f1! : null, ci, "macro_f1"),
    macro_auc: estimate(aucClasses.length ? mean(aucClasses.map((c) => aucs[c]!)) : null, ci, "macro_auc"),
    log_loss: logLoss(labels, probs, k),
    per_class,
    confusion,
    calibration: calibration(labels, probs, k, binary),
    roc: binary ? {} : perClassCurves(classes, labels, probs, rocCurve),
    pr: binary ? {} : perClassCurves(classes, labels, probs, prCurve),
    binary: binaryPart,
    bootstrap: { resamples: config.bootstrap, seed: input.seed, confidence: CONFIDENCE, ...(Object.keys(ci.skipped).length ? { skipped: ci.skipped } : {}) },
    warnings,
    weights: input.weights,
    explain: [],
  };
}

function binaryReport(input: EvaluationInput, binary: BinaryClasses, chosen: { threshold: number; rule: string }, test: ReturnType<typeof outcomesAt>, auc: number | null, ci: BootstrapResult, opts: BootstrapOptions): BinaryReport {
  const k = input.classes.length;
  const split = scored(input.labels, input.probs, k, binary);
  const val = input.val && input.val.labels.length ? operatingPoint(scored(input.val.labels, input.val.probs, k, binary), chosen.threshold, { ...opts, label: "val-operating-point" }) : null;
  return {
    positive_class: input.classes[binary.positive]!,
    negative_class: input.classes[binary.negative]!,
    rule: chosen.rule,
    threshold: chosen.threshold,
    val,
    test: operatingPointOf(test, chosen.threshold, ci),
    auc: estimate(auc, ci, "auc"),
    roc: capCurve(rocCurve(split.scores, split.positive)),
    pr: capCurve(prCurve(split.scores, split.positive)),
    average_precision: averagePrecision(split.scores, split.positive),
  };
}

/** A split's positive-class probabilities and truth. */
function scored(labels: ArrayLike<number>, probs: ArrayLike<number>, k: number, binary: BinaryClasses): Scored {
  return {
    scores: Float64Array.from({ length: labels.length }, (_, i) => probs[i * k + binary.positive]!),
    positive: Uint8Array.from({ length: labels.length }, (_, i) => (labels[i] === binary.positive ? 1 : 0)),
  };
}

/** Each class's one-vs-rest curve, capped for plotting; classes without the curve (no positives) are left out. */
function perClassCurves(classes: string[], labels: ArrayLike<number>, probs: ArrayLike<number>, curve: (s: ArrayLike<number>, p: ArrayLike<number>) => Curve): Record<string, Curve> {
  const out: Record<string, Curve> = {};
  classes.forEach((name, c) => {
    const [n, k] = [labels.length, classes.length];
    const scores = Float64Array.from({ length: n }, (_, i) => probs[i * k + c]!);
    const points = curve(scores, Uint8Array.from({ length: n }, (_, i) => (labels[i] === c ? 1 : 0)));
    if (points.x.length) out[name] = capCurve(points);
  });
  return out;
}

/** Labels and probabilities that do not line up are tlrun's bug, not the user's: a plain Error. */
function checkShape(labels: ArrayLike<number>, probs: ArrayLike<number>, k: number, split: string): void {
  if (probs.length !== labels.length * k) throw new Error(`evaluationReport: ${split} has ${labels.length} labels but ${probs.length} probabilities for ${k} classes`);
  for (let i = 0; i < labels.length; i++) if (!(labels[i]! >= 0 && labels[i]! < k && Number.isInteger(labels[i]))) throw new Error(`evaluationReport: ${split} label ${labels[i]} at ${i} is not a class index below ${k}`);
}

/** Mean negative log-probability of the true class, probabilities clipped at 1e-12. */
export function logLoss(labels: ArrayLike<number>, probs: ArrayLike<number>, k: number): number {
  let sum = 0;
  for (let i = 0; i < labels.length; i++) sum -= Math.log(Math.max(probs[i * k + labels[i]!]!, 1e-12));
  return labels.length ? sum / labels.length : 0;
}

/**
 * A sensitivity target met on validation but clearly missed on the evaluated split (its interval's
 * upper end under the target): the threshold does not carry over, which the headline would hide.
 */
function targetMissed(rule: EvaluateConfig["threshold"], b: BinaryReport, split: string): EvaluationWarning | undefined {
  if (typeof rule !== "object" || split === "val") return undefined;
  const target = rule.target_sensitivity;
  const s = b.test.sensitivity;
  if (s.value === null || s.value >= target || (s.high !== null && s.high >= target)) return undefined;
  const band = s.low !== null && s.high !== null ? ` (95% CI ${s.low.toFixed(2)}–${s.high.toFixed(2)})` : "";
  return {
    kind: "target_missed",
    message: `The threshold ${b.threshold.toPrecision(3)} reached sensitivity ${b.val?.sensitivity.value?.toFixed(2) ?? "?"} on validation but ${s.value.toFixed(2)}${band} on ${split}, short of the ${target} target: ${b.test.fn} '${b.positive_class}' images were missed. The validation split may be too small, or too unlike ${split}, to set the threshold reliably: enlarge data.split.val so the threshold rests on more positives, or make the model separate the classes better (a larger base.input_size, fine-tuning, train.class_weight: balanced).`,
  };
}
