import { didYouMean, type Problem, type SourceLocation } from "../errors";
import type { LoadedConfig, PipelineConfig } from "./types";

/** Where a config path is, for a located problem; `locate` results may carry their own file (a `--set` argument). */
export function locateIn(loaded: LoadedConfig, path: string, atKey?: boolean): SourceLocation | undefined {
  const p = loaded.locate(path, atKey) as (Partial<SourceLocation> & { line: number; col: number }) | undefined;
  return p && { file: p.file ?? loaded.file, line: p.line, col: p.col };
}

/** The evaluate options that only a two-class task has, with their paths: those set away from their defaults. */
function binaryOptions(c: PipelineConfig): Array<[string, string]> {
  const e = c.evaluate;
  const out: Array<[string, string]> = [];
  if (e.positive_class) out.push(["evaluate.positive_class", `'${e.positive_class}'`]);
  if (e.negative_class) out.push(["evaluate.negative_class", `'${e.negative_class}'`]);
  if (e.threshold !== 0.5) out.push(["evaluate.threshold", typeof e.threshold === "object" ? `target_sensitivity ${e.threshold.target_sensitivity}` : String(e.threshold)]);
  return out;
}

/**
 * Checks the options that name classes against the task's classes (the data folder's class
 * folders minus `exclude_classes`): `train.class_weight` names only real classes, the binary
 * evaluate options are set only on a two-class task, and positive/negative name real classes.
 * Run before any stage when the folder exists, and again by prepare (a built-in dataset is built
 * first); evaluate checks the binary options once more.
 */
export function checkClassOptions(loaded: LoadedConfig, classes: readonly string[]): Problem[] {
  const c = loaded.config;
  const problems: Problem[] = [];
  const known = `classes: ${classes.join(", ")}`;
  const weights = c.train.class_weight;
  if (weights && weights !== "balanced")
    for (const name of Object.keys(weights).filter((n) => !classes.includes(n)))
      problems.push({ location: locateIn(loaded, `train.class_weight.${name}`, true) ?? locateIn(loaded, "train.class_weight"), message: `train.class_weight names '${name}', which is not a class of this task (${known})`, hint: didYouMean(name, classes) || "use the class folder names of data.dir" });
  const binary = binaryOptions(c);
  if (binary.length && classes.length !== 2) {
    for (const [path, value] of binary)
      problems.push({ location: locateIn(loaded, path), message: `${path} is ${value}, but the task has ${classes.length} classes (${classes.join(", ")}); it applies only to a two-class task`, hint: `remove ${path.split(".").pop()} (a multi-class task is scored per class with argmax), or keep two classes with data.exclude_classes` });
    return problems;
  }
  for (const key of ["positive_class", "negative_class"] as const) {
    const name = c.evaluate[key];
    if (name && !classes.includes(name))
      problems.push({ location: locateIn(loaded, `evaluate.${key}`), message: `evaluate.${key} is '${name}', which is not a class of this task (${known})`, hint: didYouMean(name, classes) || `write ${key}: ${classes[1] ?? classes[0]}` });
  }
  return problems;
}
