import type { DuplicateFinding, ImageSignature } from "./types";
import type { Split } from "../data/scan";

/**
 * Images with equal decoded pixels, within and across splits. A group of g copies is not
 * spelled out as g(g−1)/2 pairs (a thousand blank scans would be half a million rows): each
 * member is paired with the group's first member, and with the first member of every other split
 * the group reaches, so every copy shows a twin in each split that holds one, in at most 3 rows.
 */
export function exactDuplicates(items: ReadonlyArray<{ split: Split }>, signatures: readonly ImageSignature[]): DuplicateFinding[] {
  const groups = new Map<string, number[]>();
  signatures.forEach((s, i) => {
    const g = groups.get(s.pixels);
    if (g) g.push(i);
    else groups.set(s.pixels, [i]);
  });
  const out: DuplicateFinding[] = [];
  for (const members of groups.values()) {
    if (members.length < 2) continue;
    const firstOf = new Map<Split, number>();
    for (const m of members) if (!firstOf.has(items[m]!.split)) firstOf.set(items[m]!.split, m);
    const seen = new Set<string>();
    const pair = (x: number, y: number): void => {
      const [a, b] = x < y ? [x, y] : [y, x];
      const key = `${a},${b}`;
      if (a === b || seen.has(key)) return;
      seen.add(key);
      out.push({ a, b, kind: "exact", similarity: 1, signal: "pixels" });
    };
    for (const m of members) {
      pair(members[0]!, m);
      for (const [split, first] of firstOf) if (split !== items[m]!.split) pair(first, m);
    }
  }
  return out.sort((x, y) => x.a - y.a || x.b - y.b);
}
