import type { Estimate, EvaluationReport } from "../evaluation/types";

const asEstimate = (v: unknown): Estimate =>
  v && typeof v === "object" && "value" in v ? (v as Estimate) : { value: typeof v === "number" ? v : null, low: null, high: null };

/** Specificity of class i from the confusion matrix: true negatives over all negatives. */
function specificity(confusion: number[][], i: number): number {
  let tn = 0, neg = 0;
  confusion.forEach((row, t) => {
    if (t === i) return;
    row.forEach((v, p) => ((neg += v), (tn += p === i ? 0 : v)));
  });
  return neg ? tn / neg : 0;
}

/**
 * A report.json as the current contract, whatever tlrun wrote it: run folders from before the
 * intervals, curves and calibration existed have plain numbers and lack those parts; the report
 * then shows what there is and says what is missing. Undefined when it is not a report at all.
 */
export function normalizeReport(raw: unknown): EvaluationReport | undefined {
  const r = raw as Partial<EvaluationReport> & Record<string, unknown>;
  if (!r || !Array.isArray(r.classes) || !Array.isArray(r.confusion)) return undefined;
  const confusion = r.confusion;
  const per_class = Object.fromEntries(r.classes.map((c, i) => {
    const m = (r.per_class?.[c] ?? {}) as Partial<EvaluationReport["per_class"][string]>;
    return [c, { precision: m.precision ?? 0, recall: m.recall ?? 0, f1: m.f1 ?? 0, support: m.support ?? 0, auc: m.auc ?? null, specificity: m.specificity ?? specificity(confusion, i) }];
  }));
  return {
    ...r,
    split: r.split ?? "test", source: r.source ?? "", classes: r.classes, n: r.n ?? confusion.flat().reduce((a, b) => a + b, 0),
    accuracy: asEstimate(r.accuracy), macro_f1: asEstimate(r.macro_f1), macro_auc: asEstimate(r.macro_auc),
    macro_precision: r.macro_precision ?? NaN, macro_recall: r.macro_recall ?? NaN, log_loss: r.log_loss ?? NaN,
    per_class, confusion,
    calibration: r.calibration ?? { ece: NaN, bins: [] },
    roc: r.roc ?? {}, pr: r.pr ?? {}, binary: r.binary ?? null,
    bootstrap: r.bootstrap ?? { resamples: 0, seed: 0, confidence: 0.95 },
    warnings: r.warnings ?? [], weights: r.weights ?? "fine-tune", explain: r.explain ?? [],
  };
}
