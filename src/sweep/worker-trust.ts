/**
 * What a `tlrun worker` agrees to run. Anyone who can write to its Redis can queue a job, and a
 * job names files: the pipeline, and through it and its `--set` overrides the data folder, the
 * runs folder, a base model or weights file. The worker runs a job only when every such path,
 * with symbolic links followed, lies under one of its `--allow` roots, so a queue cannot make it
 * read /etc as data or write a run into a home folder. Paths are checked on the resolved config,
 * after the job's overrides, before anything but the pipeline file itself is read.
 */
import { existsSync, lstatSync, realpathSync, statSync } from "node:fs";
import { basename, dirname, isAbsolute, join, resolve, sep } from "node:path";
import { loadConfig } from "../config";
import type { LoadedConfig } from "../config/types";
import { UsageError } from "../errors";
import { architectureFor, embeddedModels } from "../models/source";
import { dataDirOf, scratchDirOf } from "../plan/paths";
import { labelsFileOf } from "../data/scan-images";
import { JobRefused, parseJob } from "./job-spec";
import { verify } from "./job-signature";
import { toOverrides } from "./space";
import type { TrialSpec } from "./trial";

/** The worker's `--allow` folders, each resolved to its real path; the working directory when none is given. */
export function allowedRoots(dirs: readonly string[], cwd = process.cwd()): string[] {
  const given = dirs.length ? dirs : [cwd];
  return given.map((d) => {
    const abs = resolve(cwd, d);
    if (!existsSync(abs) || !statSync(abs).isDirectory()) throw new UsageError(`--allow ${d}: no such folder (${abs}); give a folder that exists`);
    return realpathSync(abs);
  });
}

/**
 * The real path of `path`, which may not exist yet (a runs folder to create): the real path of
 * its nearest existing ancestor, with the missing rest appended. A symbolic link whose target is
 * missing is refused, since creating through it would write wherever it points.
 */
export function realPathOf(path: string): string {
  const missing: string[] = [];
  let p = resolve(path);
  for (;;) {
    try {
      return join(realpathSync(p), ...missing.reverse());
    } catch {
      let isLink = false;
      try {
        isLink = lstatSync(p).isSymbolicLink();
      } catch {
        // not there at all: look at its parent
      }
      if (isLink) throw new JobRefused(`refused: ${p} is a symbolic link to a missing path`);
      if (dirname(p) === p) return join(p, ...missing.reverse());
      missing.push(basename(p));
      p = dirname(p);
    }
  }
}

export const isWithin = (path: string, root: string): boolean => path === root || path.startsWith(root.endsWith(sep) ? root : root + sep);

/** Refuse `path` (what it is for in `what`) unless its real path lies under one of `roots`. */
export function requireWithin(what: string, path: string, roots: readonly string[]): void {
  if (!isAbsolute(path) || path.split(/[\\/]/).includes("..")) throw new JobRefused(`refused: the ${what} '${path}' is not an absolute path without '..'`);
  const real = realPathOf(path);
  if (roots.some((r) => isWithin(real, r))) return;
  const shown = real === resolve(path) ? path : `${path} (really ${real})`;
  throw new JobRefused(`refused: the ${what} ${shown} is outside this worker's allowed folders (${roots.join(", ")}); start 'tlrun worker' with --allow <folder> to allow it`);
}

/**
 * The config values that name files, each checked here: data.dir, data.labels, base.model and base.weights by
 * `configPaths`, runtime.runs_dir through the job's runsDir (a trial records there, whatever the
 * file says). A test compares this list with the schema's path fields, so a new one is not missed.
 */
export const CHECKED_CONFIG_PATHS: readonly string[] = ["data.dir", "data.labels", "base.model", "base.weights", "runtime.runs_dir", "runtime.scratch_dir"];

/** The paths a resolved config makes a trial read or write, besides the runs folder the job names. */
export function configPaths(loaded: LoadedConfig): Array<[string, string]> {
  const { model, weights } = loaded.config.base;
  const url = (s: string): boolean => /^https?:\/\//i.test(s);
  const out: Array<[string, string]> = [["data folder (data.dir)", dataDirOf(loaded)]];
  const labels = labelsFileOf(loaded);
  if (labels) out.push(["labels file (data.labels)", labels]);
  if (!architectureFor(model, weights) && !embeddedModels.includes(model) && !url(model)) out.push(["base model (base.model)", resolve(loaded.baseDir, model)]);
  if (weights && weights !== "imagenet" && !url(weights)) out.push(["weights file (base.weights)", resolve(loaded.baseDir, weights)]);
  // fine-tune writes gigabytes there and sweeps it; empty means under the runs folder, checked already
  if (loaded.config.runtime.scratch_dir) out.push(["scratch folder (runtime.scratch_dir)", scratchDirOf(loaded)]);
  return out;
}

/**
 * Refuse a trial that would read or write outside `roots`: its pipeline file first (the only
 * file read before the check), then the runs and sweep folders it names, then the paths of its
 * config with the job's overrides and assignment applied.
 */
export function checkTrialPaths(spec: TrialSpec, roots: readonly string[]): void {
  requireWithin("pipeline file", spec.file, roots);
  requireWithin("runs folder", spec.runsDir, roots);
  requireWithin("stage cache", join(spec.runsDir, ".cache"), roots);
  requireWithin("sweep folder", spec.sweepDir, roots);
  const loaded = loadConfig(spec.file, { overrides: [...spec.overrides, ...toOverrides(spec.assignment)], skipSweep: true });
  for (const [what, path] of configPaths(loaded)) requireWithin(what, path, roots);
}

/**
 * The trial a queued job asks for, if this worker should run it: the job's shape, then its
 * signature (before any file it names is read), then its paths. Throws JobRefused with the reason.
 */
export function admitJob(data: unknown, jobId: string, roots: readonly string[], secret: string | undefined, unchecked: () => void): TrialSpec {
  const job = parseJob(data);
  verify(job, jobId, secret, unchecked);
  checkTrialPaths(job.spec, roots);
  return job.spec;
}
