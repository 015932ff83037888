import { join, resolve } from "node:path";
import { SCRATCH_FOLDER } from "../cache/scratch";
import type { LoadedConfig } from "../config/types";

/** The data folder: relative paths in a config are relative to the config file. */
export function dataDirOf(loaded: LoadedConfig): string {
  return resolve(loaded.baseDir, loaded.config.data.dir);
}

/** The runs folder: relative to the working directory, like MLflow's ./mlruns. */
export function runsDirOf(loaded: LoadedConfig): string {
  return resolve(loaded.config.runtime.runs_dir);
}

/**
 * Where fine-tune's scratch files go: runtime.scratch_dir (relative to the working directory, as
 * runs_dir), or `<runs_dir>/.scratch` beside the cache, on a disk rather than the system temp
 * folder, which is often RAM.
 */
export function scratchDirOf(loaded: LoadedConfig): string {
  const dir = loaded.config.runtime.scratch_dir;
  return dir ? resolve(dir) : join(runsDirOf(loaded), SCRATCH_FOLDER);
}
