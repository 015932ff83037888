import type { Split } from "../data/scan";
import { popcount32 } from "./phash";
import type { DuplicateFinding, ImageSignature } from "./types";

/** The pairs of splits a leak can cross: train with val or test, and val with test. */
export const CROSS_SPLITS: ReadonlyArray<[Split, Split]> = [["train", "val"], ["train", "test"], ["val", "test"]];

/**
 * Near duplicates ACROSS splits by perceptual hash: every pair with one side in each of two
 * splits whose hashes differ in at most `maxDistance` bits. `screen` vetoes a pair first (the
 * 4×4 colours, 48 values), `keep` last (the aligned thumbnails, the dearest test). An exhaustive
 * scan, bit-parallel over the two 32-bit halves held in typed arrays: 70k × 30k pairs are about
 * 2·10⁹ XOR-popcounts, seconds on one core, so no index is needed (and none would be exact at
 * these distances). Pairs a little further apart come from the feature neighbours instead
 * (`neighbour-pairs.ts`): within 22 bits, most pairs of a set that draws one subject many times
 * lie, and checking each of them grew with n².
 */
export function hashPairs(
  items: ReadonlyArray<{ split: Split }>, signatures: readonly ImageSignature[], maxDistance: number,
  keep: (a: number, b: number) => boolean = () => true,
  screen: (a: number, b: number) => boolean = () => true,
  tick: () => void = () => {},
): DuplicateFinding[] {
  const bySplit = new Map<Split, { idx: Int32Array; hi: Int32Array; lo: Int32Array }>();
  for (const split of ["train", "val", "test"] as const) {
    const idx = Int32Array.from(items.flatMap((it, i) => (it.split === split ? [i] : [])));
    bySplit.set(split, { idx, hi: Int32Array.from(idx, (i) => signatures[i]!.phash[0] | 0), lo: Int32Array.from(idx, (i) => signatures[i]!.phash[1] | 0) });
  }
  const out: DuplicateFinding[] = [];
  for (const [s, t] of CROSS_SPLITS) {
    const p = bySplit.get(s)!;
    const q = bySplit.get(t)!;
    for (let i = 0; i < p.idx.length; i++) {
      if (i % 256 === 0) tick();
      const hi = p.hi[i]!;
      const lo = p.lo[i]!;
      for (let j = 0; j < q.idx.length; j++) {
        const d = popcount32(hi ^ q.hi[j]!) + popcount32(lo ^ q.lo[j]!);
        if (d > maxDistance) continue;
        const [a, b] = p.idx[i]! < q.idx[j]! ? [p.idx[i]!, q.idx[j]!] : [q.idx[j]!, p.idx[i]!];
        if (screen(a, b) && keep(a, b)) out.push({ a, b, kind: "near", similarity: 1 - d / 64, signal: "phash" });
      }
    }
  }
  return out;
}
