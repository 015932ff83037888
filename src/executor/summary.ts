import type { StageName } from "../plan/compile";
import type { RunSummary } from "../runs/record";

const HEAD_KEYS = ["head_test_accuracy", "head_test_macro_f1", "head_test_macro_auc"];

/**
 * The summary's metrics and data counts, gathered from the stages' cache-entry info: the head's
 * own test scores, and every scalar evaluate reported (report.json's, flattened).
 */
export function summaryMetrics(infos: ReadonlyMap<StageName, Record<string, unknown>>): Pick<RunSummary, "metrics" | "data"> {
  const metrics: Record<string, number | null> = {};
  for (const key of HEAD_KEYS) {
    const v = infos.get("train-head")?.[key];
    if (typeof v === "number" || v === null) metrics[key] = v;
  }
  const evaluated = infos.get("evaluate")?.metrics;
  if (evaluated && typeof evaluated === "object")
    for (const [key, v] of Object.entries(evaluated as Record<string, unknown>)) if (typeof v === "number" && Number.isFinite(v)) metrics[key] = v;
  const p = infos.get("prepare");
  const data = p
    ? { classes: p.classes, train: p.train, val: p.val, test: p.test, bad_images: p.bad_images, skipped_files: p.skipped_files }
    : undefined;
  return { metrics, data };
}
