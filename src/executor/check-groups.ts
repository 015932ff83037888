import type { LoadedConfig } from "../config/types";
import type { Problem } from "../errors";
import { TlrunError } from "../errors";
import { groupsOf, isGrouped, missingGroupsMessage } from "../data/group-of";
import { scanDataset } from "../data/scan";

/**
 * With data.split.group_pattern or group_by, every image must have a group: a pattern that
 * misses some files, or an empty group cell, is reported here, located at the setting, before
 * any stage runs. Lists the folder (no image is read); a folder the scan refuses is left to the
 * checks that report it.
 */
export function checkGroups(loaded: LoadedConfig, dir: string): Problem[] {
  const split = loaded.config.data.split;
  if (!isGrouped(split)) return [];
  let items;
  try {
    items = scanDataset(dir, { excludeClasses: loaded.config.data.exclude_classes }).items;
  } catch (err) {
    if (err instanceof TlrunError) return [];
    throw err;
  }
  const { missing } = groupsOf(items, split);
  if (!missing.length) return [];
  const pattern = !!split.group_pattern;
  return [{
    location: loaded.locate(pattern ? "data.split.group_pattern" : "data.split.group_by"),
    message: missingGroupsMessage(split, missing, items.length),
    hint: pattern
      ? "every image needs a group: the first capture group (or the whole match) of the pattern, searched in the file name, or in the path from data.dir when the pattern holds a '/'"
      : "every row of the labels file needs a group; fill the empty cells, or drop those rows",
  }];
}
