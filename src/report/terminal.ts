import { join } from "node:path";
import type { EvaluationReport, OperatingPoint } from "../evaluation/types";
import type { RunSummary } from "../runs/record";
import { estimate, num, ruleText, threshold } from "./format";
import { REPORT_HTML } from "./write";

/** Classes listed in the terminal; a larger task shows those with the lowest recall and points to the page. */
const MAX_CLASSES = 12;
const MAX_WARNINGS = 6;

export interface RunEndOptions {
  color: boolean;
  /** The MLflow UI page of the run, when a server has it. */
  mlflowUrl?: string;
}

const paint = (on: boolean) => (code: string, s: string): string => (on ? `\x1b[${code}m${s}\x1b[0m` : s);

function classTable(r: EvaluationReport, bold: (s: string) => string): string[] {
  let classes = r.classes;
  const hidden = classes.length - MAX_CLASSES;
  if (hidden > 0) classes = [...classes].sort((a, b) => (r.per_class[a]?.recall ?? 0) - (r.per_class[b]?.recall ?? 0)).slice(0, MAX_CLASSES);
  const width = Math.min(24, Math.max(5, ...classes.map((c) => c.length)));
  const cut = (c: string): string => (c.length > width ? c.slice(0, width - 1) + "…" : c.padEnd(width));
  const cols = ["precision", "recall", "specificity", "F1", "support"];
  const lines = [bold(`  ${"class".padEnd(width)}  ${cols.map((c) => c.padStart(12)).join("")}`)];
  for (const c of classes) {
    const m = r.per_class[c];
    lines.push(`  ${cut(c)}  ${[num(m?.precision), num(m?.recall), num(m?.specificity), num(m?.f1), String(m?.support ?? 0)].map((v) => v.padStart(12)).join("")}`);
  }
  if (hidden > 0) lines.push(`  … ${hidden} more classes in the report (these are the ${MAX_CLASSES} with the lowest recall)`);
  return lines;
}

const pointLine = (label: string, p: OperatingPoint): string =>
  `  ${label} sensitivity ${estimate(p.sensitivity)} · specificity ${estimate(p.specificity)} · PPV ${num(p.ppv.value)} · NPV ${num(p.npv.value)}`;

/**
 * The short table `tlrun run` ends with: headline metrics with intervals, per-class figures, the
 * binary operating point, every warning, and where the full report is. About 20 lines for ten
 * classes; never a JSON blob (that is `--json`).
 */
export function formatRunEnd(report: EvaluationReport | undefined, summary: RunSummary, opts: RunEndOptions): string {
  const c = paint(opts.color);
  const bold = (s: string): string => c("1", s);
  const out = [bold(`run ${summary.run_id} ${summary.status}${summary.backend ? ` on ${summary.backend}` : ""}${summary.seconds !== undefined ? ` in ${summary.seconds.toFixed(1)}s` : ""}`)];
  if (report) {
    out.push(`${report.split} (${report.n} images): accuracy ${estimate(report.accuracy)} · macro F1 ${estimate(report.macro_f1)} · macro AUC ${estimate(report.macro_auc)}`);
    if (report.weights === "head-kept") out.push(c("33", "evaluated with the head's weights: fine-tuning did not beat the head"));
    out.push(...classTable(report, bold));
    const b = report.binary;
    if (b) {
      out.push(`operating point: ${b.positive_class} when p ≥ ${threshold(b.threshold)} (${ruleText(b.rule)})`);
      out.push(pointLine(`${report.split}:`.padEnd(5), b.test));
      if (b.val) out.push(pointLine("val: ", b.val));
    }
  } else if (summary.status === "completed") out.push("no report.json: the evaluation left nothing to show");
  // the summary holds evaluate's warnings too (the run's), so each is shown once
  const all = [...new Set([...(report?.warnings ?? []).map((w) => w.message), ...summary.warnings])].flatMap((w) => w.split("\n").filter((l) => l.trim()));
  // the audit's findings (a leak inflates every figure above) first, in bold
  const audit = (w: string): boolean => w.startsWith("AUDIT: ");
  const warnings = [...all.filter(audit), ...all.filter((w) => !audit(w))];
  for (const w of warnings.slice(0, MAX_WARNINGS)) out.push(c(audit(w) ? "1;33" : "33", `warning: ${w}`));
  if (warnings.length > MAX_WARNINGS) out.push(c("33", `warning: … ${warnings.length - MAX_WARNINGS} more in the report`));
  out.push(`report: ${join(summary.run_dir, REPORT_HTML)}`);
  if (opts.mlflowUrl) out.push(`mlflow: ${opts.mlflowUrl}`);
  return out.join("\n") + "\n";
}
