import type { PipelineConfig } from "../config/types";
import { balancedOrder, countByClass } from "../data/sampling";
import { classWeights, namedWeights } from "../training/class-weight";

/** How a training stage corrects for class imbalance: the rows each epoch draws and the loss weights. */
export interface ClassBalance {
  /** The epoch's rows of the train split, in order, from a seed derived per (stage, epoch). */
  order(epochSeed: number): number[];
  /** Rows drawn per epoch. */
  epochRows: number;
  /** Loss weight per class index; undefined: unweighted. */
  weights?: number[];
  /** What was used, for the stage's info (and so the run record). */
  info: Record<string, unknown>;
}

/**
 * `data.sampling` and `train.class_weight` for the train split's labels. Class weights come from
 * the train split's counts (before any resampling); validation loss stays unweighted.
 */
export function classBalance(config: PipelineConfig, classes: readonly string[], trainLabels: readonly number[]): ClassBalance {
  const policy = config.data.sampling;
  const counts = countByClass(trainLabels, classes.length);
  const weights = classWeights(config.train.class_weight, classes, counts);
  const present = counts.filter((n) => n > 0);
  const per = policy === "oversample" ? Math.max(...present) : policy === "undersample" ? Math.min(...present) : 0;
  const drawn = policy === "none" ? counts : counts.map((n) => (n > 0 ? per : 0));
  const named = (xs: number[]): Record<string, number> => Object.fromEntries(classes.map((c, i) => [c, xs[i]!]));
  return {
    order: (epochSeed) => balancedOrder(trainLabels, policy, epochSeed),
    epochRows: drawn.reduce((a, b) => a + b, 0),
    weights,
    info: { sampling: policy, train_counts: named(counts), drawn_per_epoch: named(drawn), class_weight: namedWeights(weights, classes) },
  };
}
