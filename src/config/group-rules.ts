import type { PipelineConfig } from "./types";

/** As rules.ts' Finding (not imported from there, which imports this file). */
type Finding = { path: string; message: string; hint?: string };

/**
 * `data.split.group_by` and `group_pattern` are two ways to name a group; one pipeline uses one.
 * A pattern must compile here, so a typo stops `validate` rather than prepare.
 */
export function checkGroupSource({ data }: PipelineConfig): Finding[] {
  const { split } = data;
  if (split.group_by && split.group_pattern)
    return [{ path: "data.split.group_pattern", message: `data.split sets both group_by ('${split.group_by}') and group_pattern ('${split.group_pattern}'); a pipeline names its groups one way`, hint: "keep group_by for a column of the labels file, or group_pattern for a regular expression on the file name" }];
  if (split.group_by && !data.labels)
    return [{ path: "data.split.group_by", message: `data.split.group_by names a column of the labels file ('${split.group_by}'), but data.labels is not set`, hint: "add data.labels (a CSV with a column per image's patient or lesion), or use group_pattern for a regular expression on the file name" }];
  if (!split.group_pattern) return [];
  try {
    new RegExp(split.group_pattern);
    return [];
  } catch (err) {
    const why = (err as Error).message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /, "");
    return [{ path: "data.split.group_pattern", message: `data.split.group_pattern '${split.group_pattern}' is not a valid regular expression: ${why}`, hint: "e.g. group_pattern: '^(\\d+)_' (the first capture group names the group; in YAML, quote it with single quotes so backslashes stay as written)" }];
  }
}
