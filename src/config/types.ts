import type { SourceLocation } from "../errors";
import type { PipelineConfig } from "./schema-types";

/**
 * The config types. Those describing a pipeline file are generated from
 * schemas/pipeline.schema.json into schema-types.ts (`npm run gen:types`); they are the resolved
 * shape, after ajv has filled every default. Only types that the schema does not describe live here.
 */
export type * from "./schema-types";

/** A config plus where it came from, so later checks can point at YAML positions. */
export interface LoadedConfig {
  config: PipelineConfig;
  /** Absolute path of the YAML file. */
  file: string;
  /** Folder that relative paths in the config are resolved against. */
  baseDir: string;
  /** Maps a JSON pointer-ish path (e.g. "head.layers.0.units") to a 1-based line and column: of its value, or of its key when `atKey`. */
  locate: (path: string, atKey?: boolean) => SourceLocation | undefined;
  /** Whether the file (or a --set) writes `path` ("base.cut"); schema defaults are not written. strategy: auto leaves written keys alone. */
  written?: (path: string) => boolean;
}
