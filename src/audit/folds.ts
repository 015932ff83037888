import { Rng } from "../util/rng";

/**
 * Stratified, seeded k-fold assignment: each class's items are shuffled and dealt round-robin,
 * so every fold holds about 1/k of every class and every item is held out exactly once. A class
 * with fewer than k items simply leaves some folds without it.
 */
export function stratifiedFolds(labels: ArrayLike<number>, k: number, seed: number): Int32Array {
  const byClass = new Map<number, number[]>();
  for (let i = 0; i < labels.length; i++) {
    const c = labels[i]!;
    const list = byClass.get(c);
    if (list) list.push(i);
    else byClass.set(c, [i]);
  }
  const fold = new Int32Array(labels.length);
  const rng = new Rng(seed);
  let offset = 0; // rotates where each class starts, so small classes do not all land in fold 0
  for (const c of [...byClass.keys()].sort((a, b) => a - b)) {
    const items = rng.shuffle(byClass.get(c)!);
    items.forEach((i, pos) => (fold[i] = (pos + offset) % k));
    offset += items.length;
  }
  return fold;
}
