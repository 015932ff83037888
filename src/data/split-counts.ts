import type { SplitRatios } from "./split";
import { TlrunError } from "../errors";
import { countSplits, groupsOrThrow, placeSplits } from "./manifest";
import { splitsGiven, type ScanResult, type Split } from "./scan";
import { groupCounts, groupingName, type GroupCounts } from "./group-counts";
import { isGrouped, type GroupSettings } from "./group-of";

/** Images per split and class, as prepare will split them. */
export interface SplitCounts {
  classes: string[];
  counts: Record<Split, Record<string, number>>;
  /** Where the split comes from: train/, val/, test/ folders ("presplit") or the seeded split ("classes"). */
  layout?: ScanResult["layout"];
  /** Whether the dataset gave each image its split (split folders, a labels table's split column). */
  given?: boolean;
  /** With data.split.group_by or group_pattern (or groups asked for to count the leak): groups per split and the leak. */
  groups?: GroupCounts;
}

/**
 * The class counts of each split, from the scan alone: no image is read or decoded. The
 * split is prepare's (placeSplits), so the counts match the manifest's unless prepare finds
 * images it cannot decode and skips them. `leaksBy` names groups to count without splitting by
 * them: how many test images of an ungrouped split have a group in train.
 */
export function splitCounts(scan: ScanResult, opts: { seed: number; split: SplitRatios; leaksBy?: GroupSettings }): SplitCounts {
  const labelOf = new Map(scan.classes.map((c, i) => [c, i]));
  const counting = isGrouped(opts.split) ? opts.split : opts.leaksBy && isGrouped(opts.leaksBy) ? opts.leaksBy : undefined;
  if (counting?.group_by && !scan.items.some((i) => i.columns && counting.group_by! in i.columns))
    throw new TlrunError(`'${counting.group_by}' is not a column of ${scan.layout === "table" ? "the labels file" : "this dataset: it has no labels file (data.labels)"}`);
  const groups = counting && groupsOrThrow(scan.items, counting);
  const items = scan.items.map((it, k) => ({ rel: it.rel, label: labelOf.get(it.label)!, split: it.split ?? ("train" as Split), ...(groups ? { group: groups[k]! } : {}) }));
  const given = splitsGiven(scan);
  placeSplits(items, given, scan.classes, opts.seed, opts.split);
  const counts = { classes: scan.classes, counts: countSplits(scan.classes, items), layout: scan.layout, given };
  return counting ? { ...counts, groups: groupCounts(items as Array<(typeof items)[number] & { group: string }>, scan.classes, groupingName(counting)) } : counts;
}
