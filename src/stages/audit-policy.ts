import { join } from "node:path";
import type { LoadedConfig } from "../config/types";
import { ConfigError } from "../errors";

/** What the run says after the audit stage, whether it ran or came from the cache: the task title, warnings, or the error that stops the run. */
export interface AuditVerdict {
  title: string;
  warnings: string[];
  error?: ConfigError;
}

const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

/**
 * Apply `data.audit.leakage` and `data.audit.duplicates` to what the audit stage found (its entry's
 * info). Kept out of the stage, so that switching between warn and error reuses the cached audit.
 */
export function auditVerdict(loaded: LoadedConfig, info: Record<string, unknown>, runDir: string): AuditVerdict {
  const policy = loaded.config.data.audit;
  const num = (k: string): number => Number(info[k] ?? 0);
  const [test, val, sets, dropped] = [num("test_twins_in_train"), num("val_twins_in_train"), num("exact_sets_within_splits"), num("dropped")];
  const sample = (info.leak_sample as string[] | undefined) ?? [];
  const warnings: string[] = [];
  const leaks = test + val > 0 || num("cross_split_pairs") > 0;
  const exact = num("test_exact_twins_in_train") + num("val_exact_twins_in_train");
  const held = val ? `${test} test and ${plural(val, "val image")}` : plural(test, "test image");
  const found = `${held} ${test + val === 1 ? "has" : "have"} a twin in train (${plural(num("cross_split_pairs"), "pair")} across splits; ${exact} of these images pixel-identical, the rest near)`;
  if (leaks && policy.leakage === "error") {
    const location = loaded.locate("data.audit.leakage");
    const message = `the audit found leakage: ${found}, and data.audit.leakage is error. First pairs:\n    ${sample.join("\n    ")}`;
    return { title: `audit: ${found}`, warnings, error: new ConfigError([{ ...(location ? { location } : {}), message, hint: `every pair is in ${join(runDir, "audit", "duplicates.csv")}; remove the copies from the data, or write "leakage: drop" to leave the held-out twins out of training and evaluation` }]) };
  }
  if (leaks && policy.leakage === "warn")
    warnings.push(`AUDIT: ${found}. A near twin is a copy re-encoded, resized or cropped, or a picture that only looks alike (drawn images often do): check audit/duplicates.csv in the run folder, or the report's closest pairs. Copies inflate the held-out scores; data.audit.leakage: drop leaves them out, error stops the run.`);
  if (sets > 0 && policy.duplicates === "warn")
    warnings.push(`AUDIT: ${plural(sets, "set")} of exact duplicate images within a split (the same pixels under two names); data.audit.duplicates: drop keeps one copy of each.`);
  if (dropped > 0) warnings.push(`AUDIT: dropped ${plural(dropped, "image")} from training and evaluation (data.audit: leakage ${policy.leakage}, duplicates ${policy.duplicates}); listed in audit/dropped.csv.`);
  const parts = [leaks ? found : "no leaks across splits", `${plural(num("exact_pairs"), "exact pair")}, ${plural(num("near_pairs"), "near pair")}`, `${plural(num("label_issues"), "label issue")}`, `${plural(num("outliers"), "outlier")}`];
  if (dropped > 0) parts.push(`${dropped} dropped`);
  return { title: `audit: ${parts.join("; ")}`, warnings };
}
