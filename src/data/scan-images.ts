import { relative, resolve } from "node:path";
import type { LoadedConfig } from "../config/types";
import { ConfigError } from "../errors";
import { scanDataset, type ScanResult } from "./scan";
import { scanTable, type TableSpec } from "./scan-table";

/** data.labels resolved against the YAML file's folder, as data.dir is; undefined for class folders. */
export function labelsFileOf(loaded: LoadedConfig): string | undefined {
  const labels = loaded.config.data.labels;
  return labels ? resolve(loaded.baseDir, labels) : undefined;
}

/** How messages name a file: relative to the working directory when it is below it, so editors can open `labels.csv:812`. */
export function shownPath(file: string): string {
  const rel = relative(process.cwd(), file);
  return rel && !rel.startsWith("..") ? rel : file;
}

/** The table scan's inputs for a config with data.labels. */
export function tableSpec(loaded: LoadedConfig, dir: string): TableSpec {
  const { data } = loaded.config;
  const file = labelsFileOf(loaded)!;
  return {
    dir, file, shown: shownPath(file), columns: data.columns, onMissing: data.on_missing, excludeClasses: data.exclude_classes,
    locate: (path) => loaded.locate(path),
  };
}

/**
 * The images of the config's dataset in `dir`: from its labels table when data.labels is set,
 * otherwise from its class folders. One result either way, so prepare, the manifest and
 * `tlrun plan`'s counts do not care which. A bad table throws its located problems (exit 2).
 */
export function scanImages(loaded: LoadedConfig, dir: string): ScanResult {
  if (!loaded.config.data.labels) return scanDataset(dir, { excludeClasses: loaded.config.data.exclude_classes });
  const t = scanTable(tableSpec(loaded, dir));
  if (t.problems.length) throw new ConfigError(t.problems);
  return t.scan;
}
