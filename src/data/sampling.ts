import type { SamplingPolicy } from "../config/types";
import { Rng } from "../util/rng";

/**
 * The training rows of one epoch, in the order they are drawn, for `data.sampling`:
 * - `none`: every row once, shuffled (the order the stages drew before sampling existed);
 * - `oversample`: every class present drawn as often as the largest, k × max rows. A smaller
 *   class repeats all its rows ⌊max/n⌋ times and then a seeded subset of the rest, so every row
 *   of a small class appears each epoch;
 * - `undersample`: every class present drawn as often as the smallest, k × min rows, a fresh
 *   seeded subset of each larger class.
 * Pure and deterministic in `seed`; callers derive `seed` from (run seed, stage, epoch), so each
 * epoch draws anew. Classes with no rows are left out of k.
 */
export function balancedOrder(labels: readonly number[], policy: SamplingPolicy, seed: number): number[] {
  const rng = new Rng(seed);
  const all = labels.map((_, i) => i);
  if (policy === "none") return rng.shuffle(all);
  const groups = rowsByClass(labels);
  const sizes = [...groups.values()].map((g) => g.length);
  const per = policy === "oversample" ? Math.max(...sizes) : Math.min(...sizes);
  const drawn: number[] = [];
  for (const rows of groups.values()) {
    for (let r = 0; r + rows.length <= per; r += rows.length) drawn.push(...rows);
    const rest = per % rows.length;
    if (rest) drawn.push(...rng.shuffle([...rows]).slice(0, rest));
  }
  return rng.shuffle(drawn);
}

/** Rows of each class, in label order; only classes that have rows. */
function rowsByClass(labels: readonly number[]): Map<number, number[]> {
  const groups = new Map<number, number[]>();
  [...new Set(labels)].sort((a, b) => a - b).forEach((c) => groups.set(c, []));
  labels.forEach((c, i) => groups.get(c)!.push(i));
  return groups;
}

/** Rows per class index (0..classes-1) among `rows` of `labels`: how many of each an epoch draws. */
export function countByClass(labels: readonly number[], classes: number, rows: readonly number[] = labels.map((_, i) => i)): number[] {
  const counts = new Array<number>(classes).fill(0);
  for (const r of rows) counts[labels[r]!]!++;
  return counts;
}
