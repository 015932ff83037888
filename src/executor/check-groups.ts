import type { LoadedConfig } from "../config/types";
import type { Problem } from "../errors";
import { TlrunError } from "../errors";
import { groupsOf, isGrouped, missingGroupsMessage } from "../data/group-of";
import { scanImages } from "../data/scan-images";
import { didYouMean } from "../errors";

/**
 * With data.split.group_pattern or group_by, every image must have a group: a pattern that
 * misses some files, or an empty group cell, is reported here, located at the setting, before
 * any stage runs, and so is a group_by that names no column of the labels file. Lists the folder
 * or reads the table (no image is read); a dataset the scan refuses is left to the checks that
 * report it.
 */
export function checkGroups(loaded: LoadedConfig, dir: string): Problem[] {
  const split = loaded.config.data.split;
  if (!isGrouped(split)) return [];
  let items;
  try {
    items = scanImages(loaded, dir).items;
  } catch (err) {
    if (err instanceof TlrunError) return [];
    throw err;
  }
  const known = new Set(items.flatMap((i) => Object.keys(i.columns ?? {})));
  if (split.group_by && items.length && !known.has(split.group_by))
    return [{
      location: loaded.locate("data.split.group_by"),
      message: `data.split.group_by '${split.group_by}' is not a column of ${loaded.config.data.labels}; its other columns are ${[...known].sort().join(", ") || "none"}. ${didYouMean(split.group_by, known)}`.trim(),
      hint: "name the column that holds each image's patient or lesion id",
    }];
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
