import type { EvaluationReport } from "../evaluation/types";

export type ExplainKind = EvaluationReport["explain"][number]["kind"];

/** The binary operating point: predicted positive when P(positive) >= threshold. */
export interface BinaryRule {
  positive: number;
  threshold: number;
}

/** One image chosen for a heat map: its index among the evaluated items and how the model did on it. */
export interface ExplainPick {
  index: number;
  kind: ExplainKind;
  predicted: number;
  /** The probability the model gave the predicted class. */
  probability: number;
}

const RANK: Record<ExplainKind, number> = { false_negative: 0, false_positive: 1, error: 1, correct: 2 };

/**
 * Which `n` images to explain, in the order a reviewer should see them (fastai's
 * plot_top_losses): the most confident errors first. Binary (two classes and `binary` given):
 * false negatives, most confidently negative first, then false positives, most confidently
 * positive first. Multi-class: errors by the probability of the wrong class. Then the correct
 * ones, most confident first. `probs` is n x k, row by row.
 */
export function explainOrder(labels: ArrayLike<number>, probs: Float32Array, k: number, n: number, binary?: BinaryRule): ExplainPick[] {
  const picks: ExplainPick[] = Array.from(labels, (truth, index) => {
    const row = probs.subarray(index * k, (index + 1) * k);
    let predicted = 0;
    if (binary && k === 2) predicted = row[binary.positive]! >= binary.threshold ? binary.positive : 1 - binary.positive;
    else for (let c = 1; c < k; c++) if (row[c]! > row[predicted]!) predicted = c;
    const kind: ExplainKind = predicted === truth ? "correct" : !binary || k !== 2 ? "error" : truth === binary.positive ? "false_negative" : "false_positive";
    return { index, kind, predicted, probability: row[predicted]! };
  });
  // ties keep the items' order (Array.prototype.sort is stable), so the choice is repeatable
  return picks.sort((a, b) => RANK[a.kind] - RANK[b.kind] || b.probability - a.probability).slice(0, Math.max(0, n));
}
