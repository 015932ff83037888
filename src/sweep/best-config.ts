import { existsSync, readFileSync } from "node:fs";
import { basename, dirname, isAbsolute, join, resolve } from "node:path";
import { parse, stringify } from "yaml";
import { writeFileAtomic } from "../util/atomic";
import type { TrialState } from "./record";

type Config = Record<string, Record<string, unknown> | unknown>;

/** A path field made absolute: data and base files are relative to the pipeline file, runs_dir and scratch_dir to the working directory. */
function absolute(value: unknown, from: string): unknown {
  return typeof value === "string" && value !== "" && !isAbsolute(value) ? resolve(from, value) : value;
}

/** base.model names a zoo model or a file; only a file is a path. */
const looksLikeFile = (v: unknown, baseDir: string): boolean => typeof v === "string" && (/[\\/]/.test(v) || existsSync(resolve(baseDir, v)));

/**
 * sweep/best.yaml: the best trial's full resolved config (its run's config.resolved.yaml), ready
 * for `tlrun run` from any folder: paths made absolute, the sweep block off, and the trial's own
 * run name dropped. Its stage keys are the trial's, so running it takes every stage from the cache.
 * Returns the file written, or undefined when there is no best trial with a run folder.
 */
export function writeBestConfig(sweepDir: string, best: TrialState | undefined, metric: string, baseDir: string): string | undefined {
  if (!best?.run_id) return undefined;
  const source = join(dirname(sweepDir), best.run_id, "config.resolved.yaml");
  if (!existsSync(source)) return undefined;
  const c = parse(readFileSync(source, "utf8")) as Config;
  const sect = (k: string): Record<string, unknown> => (c[k] && typeof c[k] === "object" ? (c[k] as Record<string, unknown>) : {});
  const data = sect("data");
  const base = sect("base");
  const runtime = sect("runtime");
  const tracking = sect("tracking");
  data.dir = absolute(data.dir, baseDir);
  base.weights = absolute(base.weights, baseDir);
  if (looksLikeFile(base.model, baseDir)) base.model = absolute(base.model, baseDir);
  runtime.runs_dir = absolute(runtime.runs_dir, process.cwd());
  runtime.scratch_dir = absolute(runtime.scratch_dir, process.cwd());
  if (tracking.run_name === `${String(c.name)}-trial-${best.index}`) tracking.run_name = "";
  c.sweep = null;
  const out = join(sweepDir, "sweep", "best.yaml");
  const header = [
    `# The best trial of sweep ${basename(sweepDir)}: trial ${best.index}, ${metric} ${best.value}, run ${best.run_id}.`,
    `# Its full resolved config, paths made absolute: tlrun run ${out}`,
  ].join("\n");
  writeFileAtomic(out, `${header}\n${stringify(c)}`);
  return out;
}
