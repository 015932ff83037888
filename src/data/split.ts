import { Rng, deriveSeed } from "../util/rng";
import type { Split } from "./scan";
import type { GroupSettings } from "./group-of";

/** `data.split`: the ratios and, when set, how images are grouped (`group-split.ts`). */
export interface SplitRatios extends GroupSettings {
  train: number;
  val: number;
  test: number;
  /** Split each class separately so class proportions match across splits. */
  stratify: boolean;
}

/**
 * Assign train/val/test in place. `items` must already be sorted by path, so the result depends
 * only on the seed and the file names, never on readdir order. When stratified, each class is
 * shuffled with its own seed (derived from the class name), so adding a class leaves the others'
 * splits unchanged; a class with at least 3 images gets at least one val and one test image
 * whenever those ratios are above zero.
 */
export function assignSplits<T extends { label: number; split: Split }>(items: T[], ratios: SplitRatios, seed: number, classes: string[]): void {
  if (!ratios.stratify) return cut(new Rng(seed).shuffle([...items]), ratios);
  const byLabel = new Map<number, T[]>();
  for (const item of items) {
    const group = byLabel.get(item.label) ?? [];
    group.push(item);
    byLabel.set(item.label, group);
  }
  for (const [label, group] of byLabel) cut(new Rng(deriveSeed(seed, `class:${classes[label]}`)).shuffle(group), ratios);
}

/** Sizes of the val and test parts for `n` items. */
export function splitSizes(n: number, r: SplitRatios): { val: number; test: number } {
  const total = r.train + r.val + r.test || 1;
  let val = Math.round((n * r.val) / total);
  let test = Math.round((n * r.test) / total);
  if (n >= 3) {
    if (r.val > 0) val = Math.max(val, 1);
    if (r.test > 0) test = Math.max(test, 1);
  }
  // Keep at least one training image when training has any share.
  while (r.train > 0 && n > 0 && val + test >= n) {
    if (test >= val && test > 0) test--;
    else val--;
  }
  return { val, test };
}

function cut<T extends { split: Split }>(shuffled: T[], r: SplitRatios): void {
  const { val, test } = splitSizes(shuffled.length, r);
  shuffled.forEach((item, i) => {
    item.split = i < val ? "val" : i < val + test ? "test" : "train";
  });
}
