import type { StageName } from "../plan/compile";
import type { RunSummary } from "../runs/record";

const METRIC_KEYS: Array<[StageName, string]> = [
  ["train-head", "head_test_accuracy"],
  ["train-head", "head_test_macro_f1"],
  ["train-head", "head_test_macro_auc"],
  ["evaluate", "test_accuracy"],
  ["evaluate", "test_macro_f1"],
  ["evaluate", "test_macro_auc"],
  ["evaluate", "test_log_loss"],
];

/**
 * The summary's metrics, data counts and class balance (sampling, draws per epoch and class
 * weights of each training stage), gathered from the stages' cache-entry info.
 */
export function summaryMetrics(infos: ReadonlyMap<StageName, Record<string, unknown>>): Pick<RunSummary, "metrics" | "data" | "class_balance"> {
  const metrics: Record<string, number | null> = {};
  for (const [stage, key] of METRIC_KEYS) {
    const v = infos.get(stage)?.[key];
    if (typeof v === "number" || v === null) metrics[key] = v;
  }
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
