import { resolve } from "node:path";
import type { LoadedConfig } from "../config/types";

/** The data folder: relative paths in a config are relative to the config file. */
export function dataDirOf(loaded: LoadedConfig): string {
  return resolve(loaded.baseDir, loaded.config.data.dir);
}

/** The runs folder: relative to the working directory, like MLflow's ./mlruns. */
export function runsDirOf(loaded: LoadedConfig): string {
  return resolve(loaded.config.runtime.runs_dir);
}
