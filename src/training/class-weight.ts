import * as tf from "@tensorflow/tfjs";
import type { ClassWeight } from "../config/types";

/**
 * The weight of each class (by index) for `train.class_weight`, or undefined for equal weights.
 * `balanced` is n / (k × n_c) over the train split's counts, scikit-learn's
 * compute_class_weight("balanced") that Keras users pass as `class_weight`; k and n count only
 * classes that have training images (a class without any gets weight 1: it is never drawn). A
 * map names classes by folder name; classes it leaves out weigh 1. Names were checked against
 * the data folder before the run (config/class-rules.ts).
 */
export function classWeights(cfg: ClassWeight, classes: readonly string[], trainCounts: readonly number[]): number[] | undefined {
  if (cfg === null) return undefined;
  if (cfg !== "balanced") return classes.map((c) => cfg[c] ?? 1);
  const present = trainCounts.filter((n) => n > 0);
  const n = present.reduce((a, b) => a + b, 0);
  return trainCounts.map((nc) => (nc > 0 ? n / (present.length * nc) : 1));
}

/** Per-example loss weights of a batch: each row weighs what its class does. */
export function exampleWeights(labels: readonly number[], weights: readonly number[]): tf.Tensor1D {
  return tf.tensor1d(labels.map((c) => weights[c]!), "float32");
}

/** Class weights by class name, for a stage's info (and so the run record). */
export function namedWeights(weights: readonly number[] | undefined, classes: readonly string[]): Record<string, number> | null {
  return weights ? Object.fromEntries(classes.map((c, i) => [c, +weights[i]!.toPrecision(6)])) : null;
}
