import { existsSync, statSync } from "node:fs";
import { dirname } from "node:path";
import { checkAgainstDataset, checkArchitecture, checkCut, checkExplainLayer, checkFreezePoint, checkGraphBase, loadConfig, validateFile, type LoadOptions, type ValidateResult } from "../config";
import type { LoadedConfig } from "../config/types";
import { ConfigError, TlrunError, type Problem } from "../errors";
import { baseLayers, resolveCut } from "../models/layers";
import { architectureFor, baseShape } from "../models/source";
import { weightsFile } from "../models/weights/sources";
import { ARCHITECTURES } from "../models/zoo";
import { functionalConfig } from "../models/topology";
import { dataDirOf, scratchDirOf } from "../plan/paths";
import { peekClasses } from "../data/peek";
import { checkTable } from "../data/check-table";
import { checkModelName, checkWeightsPath } from "../config/base-rules";
import { checkGroups } from "./check-groups";
import { checkHeadDepths } from "../config/head-depths-rules";

/**
 * Checks that need more than the file: `base.cut`, `freeze.at` and the lr_multipliers ranges must
 * point at real layers of the chosen model (with "did you mean" from its layer and block names),
 * preprocessing and input size must suit a known architecture, and an architecture needs weights.
 */
export function checkPipeline(loaded: LoadedConfig): Problem[] {
  const c = loaded.config;
  const unknown = checkModelName(loaded);
  if (unknown) return [unknown];
  let problems: Problem[] = [];
  try {
    const a = baseShape(c.base.model, loaded.baseDir);
    if (a.graph) return checkGraphBase(loaded);
    problems = checkCut(loaded, functionalConfig(a.topology).layers.map((l) => l.name));
    if (!problems.length) {
      const names = baseLayers(a, resolveCut(a, c.base.cut)).map((l) => l.name);
      problems = [...checkFreezePoint(loaded, names), ...checkExplainLayer(loaded, names), ...checkHeadDepths(loaded, names)];
    }
    const known = ARCHITECTURES[c.base.model]; // an architecture, or the embedded model of that name
    if (known) problems.push(...checkArchitecture(loaded, known));
  } catch (err) {
    if (!(err instanceof TlrunError)) throw err;
    problems.push({ location: loaded.locate("base.model"), message: err.message });
  }
  const arch = architectureFor(c.base.model, c.base.weights);
  if (arch && !c.base.weights)
    problems.push({ location: loaded.locate("base.weights") ?? loaded.locate("base.model"), message: `${c.base.model} has no weights of its own; found weights: '${c.base.weights}'`, hint: "write weights: imagenet, a path to a Keras .h5 or .keras file, or https://…/file.h5#sha256=<hex>" });
  else if (arch)
    try {
      const missing = checkWeightsPath(loaded, weightsFile(arch, c.base.weights, loaded.baseDir));
      if (missing) problems.push(missing);
    } catch (err) {
      if (!(err instanceof TlrunError)) throw err;
      problems.push({ location: loaded.locate("base.weights"), message: err.message });
    }
  return problems;
}

/**
 * Checks against the data folder, before any stage runs: that it exists (unless a built-in
 * dataset creates it), holds images in at least two class folders (or, with data.labels, that
 * every row of the table is usable: data/check-table.ts), and suits `exclude_classes`
 * and the options that name classes (`train.class_weight`, the binary evaluate options). Reads
 * folder listings only. A built-in dataset not built yet is checked by prepare once it is there.
 */
export function checkData(loaded: LoadedConfig): Problem[] {
  const c = loaded.config;
  const dir = dataDirOf(loaded);
  if (c.data.labels || Object.values(c.data.columns).some((v) => v)) {
    if (existsSync(dir) && statSync(dir).isDirectory()) {
      const problems = checkTable(loaded, dir);
      return problems.length ? problems : checkGroups(loaded, dir);
    }
    if (c.data.builtin) return [];
  } else if (existsSync(dir) && statSync(dir).isDirectory()) {
    const peek = peekClasses(dir);
    if (peek.mixed)
      return [{
        location: loaded.locate("data.dir"),
        message: `data.dir '${c.data.dir}' mixes split folders (${peek.mixed.splits.join(", ")}) with other folders (${peek.mixed.others.join(", ")})`,
        hint: "use either class subfolders only, or only train/, val/ and test/ folders that each hold class subfolders",
      }];
    const problems = checkAgainstDataset(loaded, peek.folders, peek);
    return problems.length ? problems : checkGroups(loaded, dir);
  }
  if (c.data.builtin) return [];
  const what = existsSync(dir) ? "is a file, not a folder" : "does not exist";
  return [{
    location: loaded.locate("data.dir"),
    message: `data.dir '${c.data.dir}' ${what} (resolved to ${dir})`,
    hint: "paths are relative to the pipeline file; point data.dir at a folder of class subfolders, or for the emoji quickstart data write data.builtin: emoji-google",
  }];
}

/** `runtime.scratch_dir` must be able to become a folder: no file where it or a parent should be. */
export function checkScratch(loaded: LoadedConfig): Problem[] {
  const c = loaded.config;
  if (!c.runtime.scratch_dir) return [];
  const scratch = existingAncestor(scratchDirOf(loaded));
  if (statSync(scratch).isDirectory()) return [];
  return [{
    location: loaded.locate("runtime.scratch_dir"),
    message: `runtime.scratch_dir '${c.runtime.scratch_dir}' cannot be a folder: ${scratch} is a file`,
    hint: "write a folder (relative to the working directory) on a disk with room for fine-tune's activations, or remove it for <runs_dir>/.scratch",
  }];
}

/** `path` itself, or its nearest parent that exists. */
function existingAncestor(path: string): string {
  return existsSync(path) || dirname(path) === path ? path : existingAncestor(dirname(path));
}

/** Load, validate and check a pipeline against its model and data; throws ConfigError. */
export function loadPipeline(file: string, opts: LoadOptions = {}): LoadedConfig {
  const loaded = loadConfig(file, opts);
  const problems = [...checkPipeline(loaded), ...checkData(loaded), ...checkScratch(loaded)];
  if (problems.length) throw new ConfigError(problems);
  return loaded;
}

/** `validateFile` plus the model and data checks, for `tlrun validate`. */
export function validatePipeline(file: string, opts: LoadOptions = {}): ValidateResult {
  const result = validateFile(file, opts);
  if (!result.ok || !result.config) return result;
  const problems = [...checkPipeline(result.config), ...checkData(result.config), ...checkScratch(result.config)];
  return problems.length ? { ok: false, problems, config: result.config } : result;
}
