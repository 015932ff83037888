/**
 * The operating threshold of a binary task, chosen on the validation split from
 * `evaluate.threshold` and then applied unchanged to the evaluated split. An image is called
 * positive when p(positive) ≥ threshold. Candidate thresholds are the validation scores themselves,
 * so the figures reported on val at the threshold are exactly the ones the rule chose by.
 */
import type { ThresholdRule } from "../config/schema-types";
import { DEFAULT_THRESHOLD } from "./binary";
import type { EvaluationWarning } from "./types";

/** A split's positive-class probabilities and its truth (1 or true = positive). */
export interface Scored {
  scores: ArrayLike<number>;
  positive: ArrayLike<boolean | number>;
}

export interface ChosenThreshold {
  threshold: number;
  /** As report.json's `binary.rule`: "0.5", "fixed", "youden" or "target_sensitivity=0.95". */
  rule: string;
  warning?: EvaluationWarning;
}

/**
 * Apply `rule` to the validation split. A fixed number is used as is. `youden` takes the threshold
 * maximising sensitivity + specificity - 1 (the highest one on a tie). `{ target_sensitivity: t }`
 * takes the highest threshold whose val sensitivity is ≥ t. When val cannot decide (no val split,
 * no positive in it, or for youden no negative either), the threshold falls back to 0.5, which is
 * what argmax does for two classes, and a "threshold_unreached" warning says so.
 */
export function chooseThreshold(rule: ThresholdRule, val: Scored | null, positiveName: string): ChosenThreshold {
  if (typeof rule === "number") return { threshold: rule, rule: rule === DEFAULT_THRESHOLD ? String(DEFAULT_THRESHOLD) : "fixed" };
  const name = rule === "youden" ? "youden" : `target_sensitivity=${rule.target_sensitivity}`;
  const points = val ? sweep(val) : null;
  const chosen = !points ? undefined : rule === "youden" ? youden(points) : highestReaching(points, rule.target_sensitivity);
  if (chosen !== undefined) return { threshold: chosen, rule: name };
  const why = !val || val.scores.length === 0 ? "there is no validation split" : !points ? `the validation split has no '${positiveName}' images` : "the validation split lacks one of the two classes";
  const fix = "give the validation split images of both classes (data.split.val with stratify: true), or set a fixed evaluate.threshold";
  return {
    threshold: DEFAULT_THRESHOLD,
    rule: name,
    warning: { kind: "threshold_unreached", message: `The threshold rule ${name} could not be applied because ${why}, so tlrun used ${DEFAULT_THRESHOLD}: ${fix}.` },
  };
}

/** One point per distinct val score, highest first: the threshold and the sensitivity and specificity there. */
interface SweepPoint {
  threshold: number;
  sensitivity: number;
  specificity: number | null;
}

function sweep(val: Scored): SweepPoint[] | null {
  const n = val.scores.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => val.scores[b]! - val.scores[a]!);
  let pos = 0;
  for (let i = 0; i < n; i++) if (val.positive[i]) pos++;
  const neg = n - pos;
  if (pos === 0) return null;
  const points: SweepPoint[] = [];
  let tp = 0;
  let fp = 0;
  for (let r = 0; r < n; r++) {
    if (val.positive[order[r]!]) tp++;
    else fp++;
    const s = val.scores[order[r]!]!;
    if (r + 1 < n && val.scores[order[r + 1]!] === s) continue;
    points.push({ threshold: s, sensitivity: tp / pos, specificity: neg ? (neg - fp) / neg : null });
  }
  return points;
}

/** Sensitivity only falls as the threshold rises, so the first point reaching it, highest first, is the highest. */
function highestReaching(points: SweepPoint[], target: number): number | undefined {
  return points.find((p) => p.sensitivity >= target)?.threshold;
}

function youden(points: SweepPoint[]): number | undefined {
  let best: SweepPoint | undefined;
  for (const p of points) {
    if (p.specificity === null) return undefined;
    if (!best || p.sensitivity + p.specificity > best.sensitivity + best.specificity! + 1e-12) best = p;
  }
  return best?.threshold;
}
