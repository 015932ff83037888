import type { PipelineConfig } from "../config/types";
import type { SplitCounts } from "../data/split-counts";
import type { GroupSettings } from "../data/group-of";
import { UsageError } from "../errors";

const pct = (x: number): string => String(Math.round(x * 100));

/** Where the split comes from, in one line: the folders, or the seeded ratios and what they keep together. */
export function splitSourceLine(c: SplitCounts, config: PipelineConfig): string {
  const s = config.data.split;
  if (c.layout === "presplit") return "split: from the data folder's train/, val/ and test/ folders";
  const by = s.group_by ? ` by group ${s.group_by}` : s.group_pattern ? ` by group (group_pattern '${s.group_pattern}')` : "";
  // the file's own split wins over the ratios and the grouping; the groups then only count its leak
  if (c.layout === "table" && c.given) return `split: from the labels file's split column${by ? ` (it wins over the ratios and data.split's grouping, whose groups count the leak below)` : ""}`;
  return `split: seeded ${pct(s.train)}/${pct(s.val)}/${pct(s.test)}${by}${s.stratify ? ", stratified by class" : ""}`;
}

/** The groups row of the class table and the lines under it: the leak count, and groups of more than one class. `grouped`: the split itself kept the groups together. */
export function groupLines(c: SplitCounts, grouped: boolean): string[] {
  const g = c.groups;
  if (!g) return [];
  const lines = [`  test images whose group is also in train: ${g.leaked_test_images} (groups from ${g.by}${grouped ? "" : "; this split does not keep them together"})`];
  if (g.mixed_groups > 0) {
    const e = g.mixed_example!;
    lines.push(`  warning: ${g.mixed_groups} group${g.mixed_groups === 1 ? "" : "s"} carr${g.mixed_groups === 1 ? "ies" : "y"} more than one class (e.g. '${e.group}': ${e.classes.join(", ")})${grouped ? "; each is split with the class most of its images have" : ""}`);
  }
  return lines;
}

/** `--leaks-by <column>` or `--leaks-pattern <regex>`: the groups to count an ungrouped split's leak by. */
export function leaksByOption(values: { "leaks-by"?: string; "leaks-pattern"?: string }): GroupSettings | undefined {
  const { "leaks-by": column, "leaks-pattern": pattern } = values;
  if (column !== undefined && pattern !== undefined) throw new UsageError("give --leaks-by or --leaks-pattern, not both");
  if (pattern !== undefined) {
    try {
      new RegExp(pattern);
    } catch (err) {
      throw new UsageError(`--leaks-pattern '${pattern}' is not a valid regular expression: ${(err as Error).message}`);
    }
    return { group_pattern: pattern };
  }
  return column !== undefined ? { group_by: column } : undefined;
}
