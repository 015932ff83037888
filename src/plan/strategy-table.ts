import type { PipelineConfig, StrategySettings } from "../config/types";

/** `strategy:` with every threshold filled: the schema cannot fill defaults under its anyOf. */
export type StrategyThresholds = Required<StrategySettings>;

/** The thresholds' defaults; the schema's descriptions say why each is what it is. */
export const STRATEGY_DEFAULTS: StrategyThresholds = {
  mode: "auto",
  large_per_class: 500,
  min_per_class_to_fine_tune: 20,
  similar_tolerance: 0.02,
  depths: [],
  probe_train_per_class: 40,
  probe_val_per_class: 30,
  small_fine_tune_epochs: 4,
  fine_tune_epochs_similar: 5,
  fine_tune_epochs_different: 10,
  fine_tune_learning_rate: 1e-4,
};

/** The config's strategy settings with defaults; `mode: explicit` for the default `strategy: explicit`. */
export function strategySettings(config: Pick<PipelineConfig, "strategy">): StrategyThresholds {
  const s = config.strategy;
  if (typeof s === "string") return { ...STRATEGY_DEFAULTS, mode: s };
  return { ...STRATEGY_DEFAULTS, ...s };
}

/** One probed depth: its layer, the Keras block it sits in, and the probe head's val accuracy there. */
export interface DepthScore {
  layer: string;
  block: string;
  accuracy: number;
}

/** What the table decides from: the full training split's size and the probe's curve, shallow to top. */
export interface StrategyInput {
  trainImages: number;
  classes: number;
  depths: DepthScore[];
  /**
   * The base's last named block at or below the top depth (block_16 on MobileNetV2, block5 on
   * VGG), which a short fine-tune trains; without one, the block of the depth below the top.
   */
  topBlock?: string;
}

/** The table's answer: the cut, the fine-tune (run or not, from where, how long, how fast) and why. */
export interface StrategyChoice {
  /** "tiny": below min_per_class_to_fine_tune, where no fine-tuning is chosen at all. */
  size: "tiny" | "small" | "large";
  similarity: "similar" | "different";
  perClass: number;
  top: DepthScore;
  /** The best depth below the top (ties go to the deeper one). */
  bestEarlier: DepthScore;
  /** The layer whose pooled features the head trains on. */
  cut: string;
  /** head.depths when the head also reads every block below the cut (`blocks`), else undefined. */
  headDepths?: "blocks";
  /**
   * `run` says whether fine-tuning is chosen; `from` is freeze.at should it run (an explicit
   * train.fine_tune forces it); `anneal`: a phase the strategy adds decays its rate to the end
   * (cosine), as a short fine-tune should not stop on a noisy step.
   */
  fineTune: { run: boolean; from: string; epochs: number; learningRate: number; anneal: boolean };
  /** The rule that fired, in one sentence. */
  rule: string;
}

/**
 * The 2x2 table of the transfer-learning tutorials (size by similarity to ImageNet), decided from
 * the data: size is the mean training images per class against `large_per_class`; similar means
 * the top depth probes within `similar_tolerance` of the best earlier one.
 *  - small, similar: a head on the top features and on every block below them (head.depths:
 *    blocks), no fine-tuning: on the quickstart's emoji it came within a point of fine-tuning
 *    from block_10 at the cost of a head (docs/strategy.md), as Head2Toe found on VTAB; below
 *    `min_per_class_to_fine_tune` images a class (tiny) the head on the top alone;
 *  - small, different: a head on the best earlier depth and every block below it, no fine-tuning
 *    (on stripes it beat fine-tuning from block_10 by 8.5 points, three splits); tiny: that depth alone;
 *  - large, similar: head on the top, fine-tune from the block of the depth below the top;
 *  - large, different: head on the top, fine-tune from the best earlier depth's block, longer.
 * Pure: no TensorFlow, no I/O. Needs at least two depths.
 */
export function chooseStrategy(input: StrategyInput, t: StrategyThresholds): StrategyChoice {
  const { depths } = input;
  if (depths.length < 2) throw new Error(`internal: the strategy table needs at least two probed depths, got ${depths.length}`);
  const top = depths[depths.length - 1]!;
  const earlier = depths.slice(0, -1);
  const bestEarlier = earlier.reduce((best, d) => (d.accuracy >= best.accuracy ? d : best));
  const perClass = input.trainImages / Math.max(1, input.classes);
  const size = perClass >= t.large_per_class ? "large" : perClass >= t.min_per_class_to_fine_tune ? "small" : "tiny";
  const similarity = top.accuracy >= bestEarlier.accuracy - t.similar_tolerance ? "similar" : "different";
  const below = earlier[earlier.length - 1]!;
  const lr = t.fine_tune_learning_rate;
  const base = { size, similarity, perClass, top, bestEarlier } as const;
  if (similarity === "similar") {
    if (size === "large")
      return { ...base, cut: top.layer, fineTune: { run: true, from: below.block, epochs: t.fine_tune_epochs_similar, learningRate: lr, anneal: false }, rule: "enough images to adapt the top blocks, whose features already fit: fine-tune them briefly" };
    // a fine-tune written in the file still runs: then the short, annealed one of the top block
    const from = input.topBlock ?? below.block;
    if (size === "small")
      return {
        ...base, cut: top.layer, headDepths: "blocks", fineTune: { run: false, from, epochs: t.small_fine_tune_epochs, learningRate: lr, anneal: true },
        rule: `the top features already fit, and with ${Math.round(perClass)} images a class a head that also reads every block below them can use the earlier features without fine-tuning, for the cost of a head`,
      };
    return {
      ...base, cut: top.layer, fineTune: { run: false, from, epochs: t.small_fine_tune_epochs, learningRate: lr, anneal: true },
      rule: `fewer than ${t.min_per_class_to_fine_tune} images a class, too few to fine-tune without overfitting, and the top features already fit: a head on them is enough`,
    };
  }
  if (size === "small")
    return {
      ...base, cut: bestEarlier.layer, headDepths: "blocks",
      fineTune: { run: false, from: bestEarlier.block, epochs: t.fine_tune_epochs_different, learningRate: lr, anneal: false },
      rule: `earlier features fit better than the top: a head on ${bestEarlier.layer} that also reads every block below it, which keeps the low-level detail the top pools away, for the cost of a head`,
    };
  if (size === "tiny")
    return {
      ...base, cut: bestEarlier.layer,
      fineTune: { run: false, from: bestEarlier.block, epochs: t.fine_tune_epochs_different, learningRate: lr, anneal: false },
      rule: `too few images to fine-tune, and earlier features fit better than the top: a head on ${bestEarlier.layer}`,
    };
  return {
    ...base, cut: top.layer,
    fineTune: { run: true, from: bestEarlier.block, epochs: t.fine_tune_epochs_different, learningRate: lr, anneal: false },
    rule: `enough images, and the top features fit worse than earlier ones: fine-tune from ${bestEarlier.block} up, longer`,
  };
}
