/**
 * tlrun's programmatic API: validate a pipeline file, plan it, run it, and sweep it.
 *
 *   import { run, plan, validate, sweep } from "tlrun";
 */
import { loadPipeline, validatePipeline } from "./executor/load";
import type { LoadedConfig } from "./config/types";
import { execute, type ExecuteOptions } from "./executor/execute";
import type { PlannedStage } from "./plan/resolve";
import { resolveStrategy } from "./plan/strategy-resolve";
import type { RunSummary } from "./runs/record";

export type { PipelineConfig, LoadedConfig } from "./config/types";
export type { RunSummary } from "./runs/record";
export type { PlannedStage, Plan } from "./plan/resolve";
export type { Problem } from "./errors";
export { ConfigError, TlrunError, InterruptedError } from "./errors";
export { compile } from "./plan/compile";
export { selectBackend } from "./backend/select";
/** Rewrite a run folder's report.html and plots/ (runs write them as they end). */
export { writeRunReport } from "./report/write";
export { formatRunEnd } from "./report/terminal";

export interface FileOptions {
  /** `path=value` overrides, as with `--set`. */
  overrides?: string[];
}

/** Validate a pipeline file; never throws for problems in the file. */
export function validate(file: string, opts: FileOptions = {}) {
  return validatePipeline(file, opts);
}

/** The stages a pipeline file compiles to and whether each is cached. Throws ConfigError. */
export function plan(file: string, opts: FileOptions & { force?: boolean } = {}): PlannedStage[] {
  return resolveStrategy(loadPipeline(file, opts), undefined, { force: opts.force }).plan.stages; // under strategy: auto, as decided by a cached probe
}

/** Run a pipeline file (or an already loaded config) and return its summary. */
export async function run(file: string | LoadedConfig, opts: FileOptions & ExecuteOptions = {}): Promise<RunSummary> {
  const loaded = typeof file === "string" ? loadPipeline(file, opts) : file;
  return execute(loaded, { renderer: "silent", ...opts });
}

export type { SweepOptions, SweepOutcome } from "./sweep/run";

/** Run a pipeline file's `sweep:` block and return every trial with the best; see docs/sweeps.md. */
export async function sweep(file: string, opts: import("./sweep/run").SweepOptions = {}): Promise<import("./sweep/run").SweepOutcome> {
  const { runSweep } = await import("./sweep/run");
  return runSweep(file, { renderer: "silent", ...opts });
}
