import { didYouMean, type Problem } from "../errors";
import type { PipelineConfig, SweepConfig } from "./types";
import type { Where } from "./load-yaml";
import { joinPath, splitPath } from "./overrides";
import { dimensionOf, flowValue, gridSize, GRID_LIMIT, type Dimension } from "./sweep-space";

const EPOCH_METRICS = new Set(["val_accuracy", "val_loss"]);

/** Where a parameter's key, or one of its fields, sits in the file. */
export const paramPath = (path: string, field?: string): string => joinPath(["sweep", "parameters", path, ...(field ? field.split(".") : [])]);

/**
 * Checks a sweep block beyond its schema: each parameter names a real config path and a sane
 * range, the space is not empty, and a grid is not too large to mean. Values themselves are
 * checked later by applying them to the config (checkSweepValues).
 */
export function checkSweep(config: PipelineConfig, where: Where): Problem[] {
  const sweep = config.sweep;
  if (!sweep) return [];
  const problems: Problem[] = [];
  const add = (path: string, message: string, hint?: string, atKey = false): void => void problems.push({ location: where(path, atKey), message, hint });
  const entries = Object.entries(sweep.parameters);
  if (!entries.length) add("sweep.parameters", "sweep.parameters is empty: a sweep needs at least one config path to search", "e.g. parameters: {head.dropout: {min: 0, max: 0.5}, train.head.learning_rate: {min: 1.0e-4, max: 1.0e-2, log: true}}");
  const dims: Dimension[] = [];
  for (const [path, p] of entries) {
    const kinds = [p.values && "values", p.choice && "choice", (p.min !== undefined || p.max !== undefined) && "min/max"].filter(Boolean);
    if (kinds.length !== 1) {
      add(paramPath(path), kinds.length ? `sweep parameter ${path} gives ${kinds.join(" and ")}; give exactly one` : `sweep parameter ${path} says nothing to try`, "write values: [a, b], choice: [a, b], or min: and max:", true);
      continue;
    }
    if (kinds[0] === "min/max") {
      if (p.min === undefined || p.max === undefined) {
        add(paramPath(path), `sweep parameter ${path} has ${p.min === undefined ? "max" : "min"} but not ${p.min === undefined ? "min" : "max"}`, "a range needs both, e.g. {min: 0, max: 0.5}", true);
        continue;
      }
      if (p.min > p.max) add(paramPath(path, "min"), `sweep parameter ${path} has min ${p.min} above max ${p.max}`, `swap them: {min: ${p.max}, max: ${p.min}}`);
      else if (p.log && p.min <= 0) add(paramPath(path, "min"), `sweep parameter ${path} is log-scaled but its range starts at ${p.min}; a log scale needs min > 0`, `e.g. min: ${p.max > 0 ? flowValue(p.max / 1000) : "1.0e-5"}, or log: false`);
      else if (p.int && Math.ceil(p.min) > Math.floor(p.max)) add(paramPath(path), `sweep parameter ${path} is int but no integer lies between ${p.min} and ${p.max}`, "widen the range, or int: false", true);
    }
    const missing = missingPath(config, path);
    if (missing) add(paramPath(path), missing.message, missing.hint, true);
    else dims.push(dimensionOf(path, p));
  }
  if (problems.length) return problems;
  checkMethod(sweep, dims, add);
  return problems;
}

function checkMethod(sweep: SweepConfig, dims: Dimension[], add: (path: string, message: string, hint?: string) => void): void {
  if (sweep.method === "grid") {
    const ranged = dims.filter((d) => d.kind === "range").map((d) => d.path);
    if (ranged.length) return add(paramPath(ranged[0]!), `grid search needs a list of values for every parameter; ${ranged.join(", ")} ${ranged.length > 1 ? "are ranges" : "is a range"}`, "write values: [...] for it, or method: random (or tpe) to sample ranges");
    const size = gridSize(dims);
    if (size > GRID_LIMIT && sweep.max_trials === 0)
      add("sweep.max_trials", `the grid has ${size.toLocaleString("en-US")} combinations (${dims.map((d) => (d.kind === "values" ? d.values.length : 0)).join(" × ")}); that many trials is refused without max_trials`, `set max_trials (e.g. max_trials: 50), or use method: random, which samples the same space`);
  } else if (sweep.max_trials === 0) {
    add("sweep.max_trials", `method ${sweep.method} samples without end; say how many trials to run`, "e.g. max_trials: 20");
  }
  if (sweep.asha.enabled && !EPOCH_METRICS.has(sweep.metric))
    add("sweep.asha.enabled", `ASHA compares trials at epoch rungs, but metric ${sweep.metric} is only known when a trial ends`, "use metric: val_accuracy or val_loss, or asha.enabled: false");
}

/** Why a config path cannot be swept, or undefined when it exists. */
function missingPath(config: PipelineConfig, path: string): { message: string; hint: string } | undefined {
  const segs = splitPath(path);
  if (segs[0] === "sweep") return { message: `sweep parameter ${path} points into the sweep block itself`, hint: "sweep pipeline settings, e.g. head.dropout" };
  let node: unknown = config;
  for (let i = 0; i < segs.length; i++) {
    const seg = segs[i]!;
    const at = segs.slice(0, i).join(".") || "the top level";
    if (Array.isArray(node)) {
      const n = Number(seg);
      if (Number.isInteger(n) && n >= 0 && n < node.length) { node = node[n]; continue; }
      return { message: `sweep parameter ${path}: ${at} is a list of ${node.length} item(s), so '${seg}' does not exist`, hint: node.length ? `use an index from 0 to ${node.length - 1}` : `give ${at} an item first, or sweep the whole list: ${at}: {values: [[...], [...]]}` };
    }
    if (node && typeof node === "object") {
      if (seg in node) { node = (node as Record<string, unknown>)[seg]; continue; }
      const keys = Object.keys(node);
      return { message: `sweep parameter ${path} is not a config path: ${at} has no key '${seg}'`, hint: didYouMean(seg, keys) || `keys in ${at}: ${keys.join(", ")}` };
    }
    const what = node === null ? "null" : typeof node;
    return { message: `sweep parameter ${path} is not a config path: ${at} is ${what}, not a mapping`, hint: at === "train.fine_tune" ? "set train.fine_tune: {} in the pipeline so the sweep can change its fields" : `sweep ${at} as a whole` };
  }
  return undefined;
}

/** Values to try for each parameter that can be checked one by one: every listed value, and each range's ends. */
export function probeValues(sweep: SweepConfig): Array<{ path: string; field: string; value: unknown }> {
  const out: Array<{ path: string; field: string; value: unknown }> = [];
  for (const [path, p] of Object.entries(sweep.parameters)) {
    if (p.values) p.values.forEach((value, i) => out.push({ path, field: `values.${i}`, value }));
    else if (p.choice) p.choice.forEach((value, i) => out.push({ path, field: `choice.${i}`, value }));
    else if (p.min !== undefined && p.max !== undefined) {
      out.push({ path, field: "min", value: p.int ? Math.ceil(p.min) : p.min });
      out.push({ path, field: "max", value: p.int ? Math.floor(p.max) : p.max });
    }
  }
  return out;
}
