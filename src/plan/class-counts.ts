import { existsSync } from "node:fs";
import type { LoadedConfig, PipelineConfig } from "../config/types";
import { scanImages } from "../data/scan-images";
import { splitCounts, type SplitCounts } from "../data/split-counts";
import { TlrunError } from "../errors";
import { dataDirOf } from "./paths";
import type { GroupSettings } from "../data/group-of";

/** Above this largest/smallest ratio of train images per class, `tlrun plan` warns when nothing corrects for it. */
export const IMBALANCE_RATIO = 3;

/** The class counts of each split, or why they are not known yet. */
export type PlanCounts = ({ known: true } & SplitCounts) | { known: false; note: string };

/**
 * Class counts per split for `tlrun plan`, from the data folder's file list (or labels table) and the seed: no
 * image is decoded. Absent while the folder is (a built-in dataset is built by the dataset stage).
 * `leaksBy` names groups to count the leak of an ungrouped split by (`tlrun plan --leaks-by`).
 */
export function planCounts(loaded: LoadedConfig, leaksBy?: GroupSettings): PlanCounts {
  const dir = dataDirOf(loaded);
  const { data, seed } = loaded.config;
  if (!existsSync(dir)) return { known: false, note: data.builtin ? `class counts come after the dataset stage builds ${data.builtin} into ${dir}` : `class counts unknown: ${dir} does not exist` };
  try {
    return { known: true, ...splitCounts(scanImages(loaded, dir), { seed, split: data.split, ...(leaksBy ? { leaksBy } : {}) }) };
  } catch (err) {
    if (err instanceof TlrunError) return { known: false, note: `class counts unknown: ${err.message.split("\n")[0]!}` };
    throw err;
  }
}

/** The train split's largest/smallest class ratio (over classes that have training images), with those two classes. */
export function imbalance(c: SplitCounts): { ratio: number; largest: string; smallest: string } | undefined {
  const present = Object.entries(c.counts.train).filter(([, n]) => n > 0).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  if (present.length < 2) return undefined;
  const [largest, smallest] = [present[0]!, present[present.length - 1]!];
  return { ratio: largest[1] / smallest[1], largest: largest[0], smallest: smallest[0] };
}

/** One line when the train split is imbalanced above 3:1 and neither class_weight nor sampling corrects it. */
export function imbalanceWarning(c: SplitCounts, config: PipelineConfig): string | undefined {
  const im = imbalance(c);
  if (!im || im.ratio <= IMBALANCE_RATIO || config.train.class_weight !== null || config.data.sampling !== "none") return undefined;
  const train = c.counts.train;
  return `the train split is imbalanced ${im.ratio.toFixed(1)}:1 (${im.largest} ${train[im.largest]}, ${im.smallest} ${train[im.smallest]}) with no weighting; set train.class_weight: balanced (or data.sampling: oversample)`;
}

/** One line when balanced class weights and balanced sampling are both on: together they over-correct. */
export function doubleCorrectionWarning(config: PipelineConfig): string | undefined {
  const { sampling } = config.data;
  return config.train.class_weight === "balanced" && sampling !== "none"
    ? `train.class_weight: balanced and data.sampling: ${sampling} both balance the classes; together they invert the imbalance (weights come from the counts before sampling, so a class 5 times smaller ends up weighing 5 times more); keep one`
    : undefined;
}

/** The warnings `tlrun plan` prints about the classes: imbalance left uncorrected, or corrected twice. */
export function classWarnings(counts: PlanCounts, config: PipelineConfig): string[] {
  return [counts.known ? imbalanceWarning(counts, config) : undefined, doubleCorrectionWarning(config)].filter((w): w is string => !!w);
}
