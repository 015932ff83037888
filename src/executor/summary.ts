import type { StageName } from "../plan/compile";
import type { RunSummary } from "../runs/record";

const HEAD_KEYS = ["head_test_accuracy", "head_test_macro_f1", "head_test_macro_auc"];

/**
 * The summary's metrics, data counts and class balance, gathered from the stages' cache-entry
 * info: the head's own test scores, every scalar evaluate reported (report.json's, flattened),
 * and each training stage's sampling, draws per epoch and class weights.
 */
export function summaryMetrics(infos: ReadonlyMap<StageName, Record<string, unknown>>): Pick<RunSummary, "metrics" | "data" | "class_balance"> {
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
  const balance = (["train-head", "fine-tune"] as const).flatMap((s) => {
    const b = infos.get(s)?.class_balance;
    return b && typeof b === "object" ? [[s, b as Record<string, unknown>] as const] : [];
  });
  return { metrics, data, ...(balance.length ? { class_balance: Object.fromEntries(balance) } : {}) };
}
