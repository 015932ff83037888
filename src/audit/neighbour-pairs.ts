import type { Split } from "../data/scan";
import type { Neighbours } from "./neighbours";
import { popcount32 } from "./phash";
import type { DuplicateFinding, ImageSignature } from "./types";

/**
 * The confirm band of the near-duplicate search: pairs ACROSS splits whose hashes differ by more
 * than `fromDistance` bits but at most `toDistance` (a crop or a resize moves the hash that far),
 * taken from each image's feature neighbour lists instead of from every pair. A copy is among the
 * images nearest its original in feature space, so the lists hold its candidates; and the lists
 * are k an image, so the candidates grow with n, not n². The exhaustive scan over every pair
 * did grow with n² on data that draws one subject many times (a generated folder with every emoji
 * five times: 13.6 s at 10k images, 28 min extrapolated to 100k), since most of those pairs lie
 * within 22 bits and each one then paid for the aligned check. Each candidate passes `screen`
 * (cheap), then `accept` (the feature cosine), then `keep` (the aligned thumbnails), in that order.
 */
export function neighbourPairs(
  items: ReadonlyArray<{ split: Split }>, signatures: readonly ImageSignature[], nb: Neighbours,
  band: { fromDistance: number; toDistance: number },
  accept: (a: number, b: number) => DuplicateFinding | undefined,
  keep: (a: number, b: number) => boolean,
  screen: (a: number, b: number) => boolean,
  tick: () => void = () => {},
): DuplicateFinding[] {
  const n = items.length;
  const seen = new Set<number>();
  const out: DuplicateFinding[] = [];
  for (let i = 0; i < n; i++) {
    if (i % 1024 === 0) tick();
    for (let c = 0; c < nb.k; c++) {
      const j = nb.index[i * nb.k + c]!;
      if (items[i]!.split === items[j]!.split) continue;
      const [a, b] = i < j ? [i, j] : [j, i];
      const key = a * n + b;
      if (seen.has(key)) continue;
      seen.add(key);
      const [x, y] = [signatures[a]!.phash, signatures[b]!.phash];
      const d = popcount32((x[0] ^ y[0]) >>> 0) + popcount32((x[1] ^ y[1]) >>> 0);
      if (d <= band.fromDistance || d > band.toDistance || !screen(a, b)) continue;
      const found = accept(a, b);
      if (found && keep(a, b)) out.push(found);
    }
  }
  return out;
}
