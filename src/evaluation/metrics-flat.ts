/**
 * The report's scalar metrics under stable flat names, for MLflow and the run summary:
 * `<split>_accuracy`, `<split>_accuracy_low`, `<split>_accuracy_high`, … and per class
 * `<split>_recall/<class>`. Only finite numbers: a null (an AUC without positives, an interval that
 * is off) is left out rather than logged as NaN.
 */
import type { EvaluationReport, Estimate, OperatingPoint } from "./types";

/** MLflow accepts letters, digits, _ - . space and /; anything else in a class name becomes _. */
const metricSafe = (name: string): string => name.replace(/[^A-Za-z0-9_\-. /]/g, "_");

export function flatMetrics(report: EvaluationReport): Record<string, number> {
  const out: Record<string, number> = {};
  const put = (name: string, value: number | null | undefined): void => {
    if (typeof value === "number" && Number.isFinite(value)) out[name] = value;
  };
  const putEstimate = (name: string, e: Estimate): void => {
    put(name, e.value);
    put(`${name}_low`, e.low);
    put(`${name}_high`, e.high);
  };
  const s = report.split;
  putEstimate(`${s}_accuracy`, report.accuracy);
  putEstimate(`${s}_macro_f1`, report.macro_f1);
  putEstimate(`${s}_macro_auc`, report.macro_auc);
  put(`${s}_macro_precision`, report.macro_precision);
  put(`${s}_macro_recall`, report.macro_recall);
  put(`${s}_log_loss`, report.log_loss);
  put(`${s}_ece`, report.calibration.ece);
  put(`${s}_images`, report.n);
  for (const [name, c] of Object.entries(report.per_class)) {
    const cls = metricSafe(name);
    for (const key of ["precision", "recall", "specificity", "f1", "auc"] as const) put(`${s}_${key}/${cls}`, c[key]);
  }
  const b = report.binary;
  if (b) {
    const point = (prefix: string, p: OperatingPoint): void => {
      for (const key of ["sensitivity", "specificity", "ppv", "npv"] as const) putEstimate(`${prefix}_${key}`, p[key]);
    };
    point(s, b.test);
    putEstimate(`${s}_auc`, b.auc);
    put(`${s}_average_precision`, b.average_precision);
    put("threshold", b.threshold);
    if (b.val && s !== "val") point("val", b.val);
  }
  return out;
}
