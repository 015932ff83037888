import { Rng, deriveSeed } from "../util/rng";
import type { Split } from "./scan";
import type { SplitRatios } from "./split";

/** An item that belongs to a group (a patient, a lesion): all of a group's items share one split. */
export interface GroupedItem {
  label: number;
  split: Split;
  group: string;
}

interface Group<T> {
  id: string;
  items: T[];
  /** The class most of its items carry (ties: the lower class index). */
  label: number;
  /** Its place in its class's order: a seeded hash of the id alone. */
  key: number;
}

/**
 * Assign train/val/test so that every group lands whole in one split. Stratified: each group
 * counts for the class most of its images carry, and each class is cut apart. Within a class the
 * groups are ordered by a seeded hash of their id (not by shuffling a list, whose result changes
 * with its length), then cut by cumulative image counts, so each split's share of images is as
 * near the ratios as whole groups allow. A new group takes its place in that order: groups of
 * other classes never move, and in its own class only groups at the two cut points can (about as
 * many images as it holds).
 */
export function assignGroupSplits<T extends GroupedItem>(items: readonly T[], ratios: SplitRatios, seed: number, classes: readonly string[]): void {
  const groups = collectGroups(items);
  const pools = new Map<string, Array<Group<T>>>();
  for (const g of groups.values()) {
    const pool = ratios.stratify ? `class:${classes[g.label]}` : "all";
    const members = pools.get(pool) ?? [];
    members.push(g);
    pools.set(pool, members);
  }
  for (const [pool, members] of pools) {
    const poolSeed = deriveSeed(seed, pool);
    for (const g of members) g.key = new Rng(deriveSeed(poolSeed, `group:${g.id}`)).next();
    members.sort((a, b) => a.key - b.key || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    cutGroups(members, ratios);
  }
}

/** Groups by id, each with its majority class. */
function collectGroups<T extends GroupedItem>(items: readonly T[]): Map<string, Group<T>> {
  const groups = new Map<string, Group<T>>();
  for (const item of items) {
    const g = groups.get(item.group) ?? { id: item.group, items: [], label: 0, key: 0 };
    g.items.push(item);
    groups.set(item.group, g);
  }
  for (const g of groups.values()) g.label = majorityLabel(g.items);
  return groups;
}

function majorityLabel(items: ReadonlyArray<{ label: number }>): number {
  const counts = new Map<number, number>();
  for (const i of items) counts.set(i.label, (counts.get(i.label) ?? 0) + 1);
  let best = -1;
  let most = 0;
  for (const [label, n] of counts) if (n > most || (n === most && label < best)) [best, most] = [label, n];
  return best;
}

/**
 * Cut groups (already in order) into val, test, then train by where the middle of each group
 * falls among the pool's images: the shares are off by at most half a group at each cut. With 3
 * groups or more, val and test each get at least one group when their ratio is above zero, and
 * train keeps one, as the image split does.
 */
function cutGroups<T extends GroupedItem>(groups: Array<Group<T>>, r: SplitRatios): void {
  const total = r.train + r.val + r.test || 1;
  const n = groups.reduce((a, g) => a + g.items.length, 0);
  const valEnd = (n * r.val) / total;
  const testEnd = valEnd + (n * r.test) / total;
  const splits: Split[] = [];
  let before = 0;
  for (const g of groups) {
    const middle = before + g.items.length / 2;
    splits.push(middle < valEnd ? "val" : middle < testEnd ? "test" : "train");
    before += g.items.length;
  }
  if (groups.length >= 3) {
    if (r.val > 0 && !splits.includes("val")) splits[0] = "val";
    const notVal = splits.findIndex((s) => s !== "val");
    if (r.test > 0 && !splits.includes("test") && notVal >= 0) splits[notVal] = "test";
    if (r.train > 0 && !splits.includes("train")) splits[splits.length - 1] = "train";
  }
  groups.forEach((g, i) => g.items.forEach((item) => (item.split = splits[i]!)));
}
