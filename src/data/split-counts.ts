import type { SplitRatios } from "./split";
import { countSplits, placeSplits } from "./manifest";
import { splitsGiven, type ScanResult, type Split } from "./scan";

/** Images per split and class, as prepare will split them. */
export interface SplitCounts {
  classes: string[];
  counts: Record<Split, Record<string, number>>;
}

/**
 * The class counts of each split, from the scan alone: no image is read or decoded. The
 * split is prepare's (placeSplits), so the counts match the manifest's unless prepare finds
 * images it cannot decode and skips them.
 */
export function splitCounts(scan: ScanResult, opts: { seed: number; split: SplitRatios }): SplitCounts {
  const labelOf = new Map(scan.classes.map((c, i) => [c, i]));
  const items = scan.items.map((it) => ({ rel: it.rel, label: labelOf.get(it.label)!, split: it.split ?? ("train" as Split) }));
  placeSplits(items, splitsGiven(scan), scan.classes, opts.seed, opts.split);
  return { classes: scan.classes, counts: countSplits(scan.classes, items) };
}
