/**
 * Warnings about an evaluation that a headline number would hide: a model that calls (nearly)
 * everything one class, a class it mostly misses, and a split too small to trust. Each is one plain
 * sentence ending in what to change.
 */
import type { BinaryClasses } from "./binary";
import type { ClassCounts } from "./confusion";
import type { EvaluationWarning } from "./types";

/** Predicting one class for this share of the images, when the truth is not that lopsided, is a collapse. */
export const COLLAPSE_SHARE = 0.95;
/** A class with fewer images than this in the evaluated split gets a "small_split" warning. */
export const SMALL_CLASS = 10;

export interface WarningInput {
  split: string;
  classes: string[];
  labels: ArrayLike<number>;
  predicted: ArrayLike<number>;
  perClass: ClassCounts[];
  /** `evaluate.recall_floor`; 0 turns the low-recall warning off. */
  recallFloor: number;
  binary: BinaryClasses | null;
  /** Training already weighted or resampled the classes (train.class_weight, data.sampling). */
  balanced: boolean;
}

const pct = (x: number): string => `${Math.round(x * 100)}%`;
const REBALANCE = "set train.class_weight: balanced or data.sampling: oversample";
/** When the classes are already balanced in training, what is left to try. */
const BEYOND_BALANCE = "the classes are already weighted or resampled, so look at that class's training images (too few, or unlike its test images), a larger base.input_size, or fine-tuning from an earlier freeze.at";
const fixOf = (w: WarningInput): string => (w.balanced ? BEYOND_BALANCE : REBALANCE);

export function evaluationWarnings(w: WarningInput): EvaluationWarning[] {
  return [...collapse(w), ...lowRecall(w), ...smallSplit(w)];
}

function collapse(w: WarningInput): EvaluationWarning[] {
  const n = w.labels.length;
  if (!n) return [];
  const predicted = new Array<number>(w.classes.length).fill(0);
  for (let i = 0; i < n; i++) predicted[w.predicted[i]!]!++;
  const top = predicted.indexOf(Math.max(...predicted));
  const predictedShare = predicted[top]! / n;
  const trueShare = w.perClass[top]!.support / n;
  if (predictedShare < COLLAPSE_SHARE || trueShare >= COLLAPSE_SHARE) return [];
  const name = w.classes[top]!;
  const missed = w.binary ? w.binary.positive : w.classes.length === 2 ? 1 - top : -1;
  const threshold = missed < 0 ? "" : thresholdFix(w, missed);
  return [{ kind: "collapse", message: `The model predicted '${name}' for ${pct(predictedShare)} of the ${n} ${w.split} images, while only ${pct(trueShare)} of them are '${name}', so it has collapsed onto one class: ${fixOf(w)}${threshold}.` }];
}

function lowRecall(w: WarningInput): EvaluationWarning[] {
  if (w.recallFloor <= 0) return [];
  return w.perClass.flatMap((c, i) => {
    if (!c.support || c.recall >= w.recallFloor) return [];
    const found = Math.round(c.recall * c.support);
    const threshold = w.classes.length === 2 ? thresholdFix(w, i) : "";
    return [{ kind: "low_recall" as const, message: `Recall of '${w.classes[i]}' on the ${w.split} split is ${c.recall.toFixed(2)} (${found} of ${c.support} found), under evaluate.recall_floor ${w.recallFloor}: ${fixOf(w)}${threshold}.` }];
  });
}

/** The threshold rule that would find more of class `c` of a two-class task, naming it positive when the task is not binary yet. */
function thresholdFix(w: WarningInput, c: number): string {
  if (!w.binary) return `, or set evaluate.positive_class: ${w.classes[c]} with evaluate.threshold: { target_sensitivity: 0.9 }`;
  return c === w.binary.positive ? ", or evaluate.threshold: { target_sensitivity: 0.9 }" : ", or evaluate.threshold: youden";
}

function smallSplit(w: WarningInput): EvaluationWarning[] {
  return w.perClass.flatMap((c, i) => {
    if (c.support >= SMALL_CLASS) return [];
    const name = w.classes[i];
    return [{ kind: "small_split" as const, message: `The ${w.split} split has only ${c.support} '${name}' images, so its figures and intervals are wide: add '${name}' images to the ${w.split} split or raise data.split.${w.split}.` }];
  });
}
