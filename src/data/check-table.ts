import { existsSync, statSync } from "node:fs";
import { checkAgainstDataset } from "../config";
import type { LoadedConfig } from "../config/types";
import { ConfigError, type Problem } from "../errors";
import { labelsFileOf, shownPath, tableSpec } from "./scan-images";
import { scanTable } from "./scan-table";

/**
 * `validate`'s checks of a labels table, before any stage runs: data.labels and data.columns go
 * together, the file is there, the columns it names exist, every row is usable (see scanTable),
 * and it holds at least two classes that suit the options naming classes. Reads the table and
 * one listing per image folder; on a 100k-row table this takes a fraction of a second.
 */
export function checkTable(loaded: LoadedConfig, dir: string): Problem[] {
  const { data } = loaded.config;
  if (!data.labels)
    return [{ location: loaded.locate("data.columns", true), message: "data.columns is set without data.labels", hint: "add labels: <file.csv | .tsv | .jsonl>, or remove data.columns to read class folders" }];
  if (!data.columns.label)
    return [{ location: Object.values(data.columns).some((v) => v) ? loaded.locate("data.columns", true) : loaded.locate("data.labels"), message: "data.labels needs data.columns.label: the column that holds each image's class", hint: "write e.g. columns: { path_template: \"{image_id}.jpg\", label: dx }" }];
  const file = labelsFileOf(loaded)!;
  if (!existsSync(file) || !statSync(file).isFile()) {
    if (data.builtin && !existsSync(dir)) return []; // the dataset stage writes it; prepare checks it then
    return [{ location: loaded.locate("data.labels"), message: `data.labels '${data.labels}' ${existsSync(file) ? "is not a file" : "does not exist"} (resolved to ${shownPath(file)})`, hint: "paths are relative to the pipeline file" }];
  }
  let t;
  try {
    t = scanTable(tableSpec(loaded, dir));
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  if (t.problems.length) return t.problems;
  const kept = t.scan.classes;
  if (kept.length < 2) {
    const excluded = data.exclude_classes.length ? ` (exclude_classes leaves out ${data.exclude_classes.join(", ")})` : "";
    return [{
      location: loaded.locate("data.labels"),
      message: `${shownPath(file)} has ${kept.length ? `one class with images, '${kept[0]}'` : "no rows with images"}${excluded}; a classifier needs at least 2`,
      hint: `the classes are the values of the '${data.columns.label}' column`,
    }];
  }
  return checkAgainstDataset(loaded, t.labels, { withImages: kept, looseImages: false });
}
