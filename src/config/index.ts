import { dirname, resolve } from "node:path";
import { ConfigError, type Problem } from "../errors";
import { checkTopLevel, readYaml, toData, type Where } from "./load-yaml";
import { applyOverrides, splitPath, whereWithOverrides } from "./overrides";
import { checkRules } from "./rules";
import type { LoadedConfig } from "./types";
import { validateStructure } from "./validate";
import { checkSweep, paramPath, probeValues } from "./sweep-rules";
import { flowValue } from "./sweep-space";
import type { SweepConfig } from "./types";

export type { LoadedConfig, PipelineConfig } from "./types";
export { checkAgainstDataset, checkArchitecture, checkCut, checkExplainLayer, checkFreezePoint, checkGraphBase, RULES, type ArchitectureFacts, type FolderContents } from "./rules";

export interface LoadOptions {
  /** `path=value` strings from repeatable `--set` flags, applied in order before validation. */
  overrides?: string[];
  /** Skip the sweep block's checks (used while checking the sweep's own values). */
  skipSweep?: boolean;
}

export interface ValidateResult {
  ok: boolean;
  problems: Problem[];
  config?: LoadedConfig;
}

/**
 * Reads, overrides and validates a pipeline file, collecting every problem instead of throwing.
 * Stops after the first stage that fails: YAML, then schema (pass 1), then rules (pass 2).
 */
export function validateFile(file: string, opts: LoadOptions = {}): ValidateResult {
  const abs = resolve(file);
  const fail = (problems: Problem[]): ValidateResult => ({ ok: false, problems: sortProblems(problems, file) });
  const read = readYaml(abs, file);
  const source = read.source;
  const yamlProblems = source && !read.problems.length ? checkTopLevel(source) : read.problems;
  if (!source || yamlProblems.length) return fail(yamlProblems);

  const { applied, problems: setProblems } = applyOverrides(source.doc, opts.overrides ?? []);
  if (setProblems.length) return fail(setProblems);
  const { data, problems: dataProblems } = toData(source);
  if (dataProblems.length) return fail(dataProblems);

  const where = whereWithOverrides(source, applied);
  const { config, problems } = validateStructure(data, where);
  if (!config) return fail(problems);
  const ruleProblems = checkRules(config, where);
  if (ruleProblems.length) return fail(ruleProblems);
  if (config.sweep && !opts.skipSweep) {
    const sweepProblems = checkSweep(config, where);
    if (!sweepProblems.length) sweepProblems.push(...checkSweepValues(file, config.sweep, opts.overrides ?? [], where));
    if (sweepProblems.length) return fail(sweepProblems);
  }
  return { ok: true, problems: [], config: { config, file: abs, baseDir: dirname(abs), locate: (path, atKey) => where(path, atKey), written: (path) => source.doc.hasIn(splitPath(path)) } };
}

/** Loads a pipeline file into a validated config with defaults filled; throws ConfigError (exit 2) listing every problem. */
export function loadConfig(file: string, opts: LoadOptions = {}): LoadedConfig {
  const result = validateFile(file, opts);
  if (!result.ok || !result.config) throw new ConfigError(result.problems);
  return result.config;
}

/**
 * Applies each value a sweep may try to the pipeline and validates the result, so a value the
 * schema or rules refuse (dropout 1.5, an unknown optimizer) is reported before any trial runs.
 */
function checkSweepValues(file: string, sweep: SweepConfig, overrides: string[], where: Where): Problem[] {
  const problems: Problem[] = [];
  for (const probe of probeValues(sweep)) {
    const r = validateFile(file, { overrides: [...overrides, `${probe.path}=${flowValue(probe.value)}`], skipSweep: true });
    const first = r.problems[0];
    if (r.ok || !first) continue;
    problems.push({ location: where(paramPath(probe.path, probe.field)), message: `sweep value ${probe.path} = ${flowValue(probe.value)} would make an invalid pipeline: ${first.message}`, hint: first.hint });
  }
  return problems;
}

/** Problems in the file first, in line order, then those in `--set` arguments, in argument order. */
function sortProblems(problems: Problem[], file: string): Problem[] {
  const rank = (p: Problem) => (p.location?.file === file ? [0, p.location.line, p.location.col] : [1, 0, 0]);
  return [...problems].sort((a, b) => {
    const [x, y] = [rank(a), rank(b)];
    return x[0]! - y[0]! || x[1]! - y[1]! || x[2]! - y[2]!;
  });
}
