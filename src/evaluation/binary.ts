/**
 * Whether the evaluation is a binary one, and which class is positive. The single place that reads
 * `evaluate.positive_class` / `negative_class`: the plan checks a config against the dataset's
 * classes with it, and evaluate uses it to build the report, so the two cannot disagree.
 */
import type { EvaluateConfig } from "../config/schema-types";
import { EXIT, TlrunError } from "../errors";

export interface BinaryClasses {
  positive: number;
  negative: number;
}

/** The default threshold rule; any other rule is a binary option. */
export const DEFAULT_THRESHOLD = 0.5;

type BinaryOptions = Pick<EvaluateConfig, "positive_class" | "negative_class" | "threshold">;

/**
 * The positive and negative class indices when the task is binary: `positive_class` is set, or
 * `negative_class` is (the other class is then positive). Null for a per-class (argmax) report.
 * Throws a TlrunError (exit 2) on a class that does not exist, a binary option on a task without
 * exactly two classes, the same class on both sides, or a threshold rule with no positive class.
 */
export function binaryClasses(classes: string[], cfg: BinaryOptions): BinaryClasses | null {
  const { positive_class: pos, negative_class: neg } = cfg;
  const list = classes.map((c) => `'${c}'`).join(", ") || "none";
  const found = `the dataset's classes are ${list}`;
  const thresholdSet = cfg.threshold !== DEFAULT_THRESHOLD;
  if (!pos && !neg) {
    if (!thresholdSet) return null;
    const fix = classes.length === 2 ? `add evaluate.positive_class: ${classes[1]} (the class a positive result means)` : "remove evaluate.threshold, which only applies to a two-class task";
    throw fail(`evaluate.threshold is set, but no positive class is named, so there is no positive probability to threshold; ${found}`, fix);
  }
  const option = pos ? `evaluate.positive_class: ${pos}` : `evaluate.negative_class: ${neg}`;
  if (classes.length !== 2) throw fail(`${option} makes a binary report, but the task has ${classes.length} classes (${list})`, "remove evaluate.positive_class, negative_class and threshold for a per-class report, or keep only two class folders (data.exclude_classes)");
  for (const [key, name] of [["positive_class", pos], ["negative_class", neg]] as const) {
    if (name && !classes.includes(name)) throw fail(`evaluate.${key} '${name}' is not a class; ${found}`, `write one of ${classes.map((c) => `'${c}'`).join(" or ")} (class folder names, case-sensitive)`);
  }
  if (pos && neg && pos === neg) throw fail(`evaluate.positive_class and negative_class are both '${pos}'; ${found}`, "name the other class in one of them, or set only positive_class");
  const positive = pos ? classes.indexOf(pos) : 1 - classes.indexOf(neg);
  return { positive, negative: 1 - positive };
}

function fail(message: string, hint: string): TlrunError {
  return new TlrunError(`${message}\n  hint: ${hint}`, EXIT.usage);
}
