import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Estimate } from "../evaluation/types";
import type { RunFolder } from "./read-run";
import { configHtml, dataHtml, environmentHtml, eventsHtml, h, metricsHtml, none, operatingPointHtml, warningsHtml } from "./html-sections";
import { num } from "./format";
import { AUDIT_CSS, auditHtml } from "./html-audit";

/** The report's sections in page order: id (stable, tests find them by it) and heading. */
export const SECTIONS = [
  ["warnings", "Warnings"],
  ["metrics", "Metrics"],
  ["operating-point", "Operating point"],
  ["confusion", "Confusion matrix"],
  ["roc", "ROC curves"],
  ["pr", "Precision-recall curves"],
  ["reliability", "Calibration"],
  ["explain", "Where the model looked (Grad-CAM)"],
  ["audit", "Data audit"],
  ["data", "Data"],
  ["training", "Training curves"],
  ["events", "Early stopping and kept weights"],
  ["config", "Configuration"],
  ["environment", "Environment"],
] as const;
export type SectionId = (typeof SECTIONS)[number][0];

/** A figure for the page: its PNG inlined as base64, with a caption. */
export interface Figure { png: Buffer; alt: string; caption?: string }

export interface PageInput {
  run: RunFolder;
  figures: Partial<Record<"confusion" | "roc" | "pr" | "reliability" | "training", Figure>>;
  /** Grad-CAM panels and other figures a stage left under plots/. */
  panels: Figure[];
  /** Other figures a stage left under plots/, such as an attention head's maps. */
  others: Figure[];
  versions: { tlrun: string; tfjs?: string; tfjsNode?: string };
}

const CSS = `
body{font-family:"DejaVu Sans",Arial,Helvetica,sans-serif;color:#1a1a1a;max-width:1080px;margin:0 auto;padding:24px;line-height:1.45;font-size:15px}
h1{font-size:26px;margin:0 0 4px}h2{font-size:20px;border-bottom:2px solid #d0d7de;padding-bottom:4px;margin-top:32px}h3{font-size:16px;margin:18px 0 6px}
.sub{color:#555;margin:0 0 16px}.headline{display:flex;flex-wrap:wrap;gap:12px;margin:12px 0}
.headline div{border:1px solid #d0d7de;border-radius:6px;padding:8px 14px;min-width:140px}.headline b{display:block;font-size:22px}.headline small{color:#555;font-size:12px}
table{border-collapse:collapse;margin:8px 0 12px;font-size:14px}th,td{border:1px solid #d0d7de;padding:5px 10px;text-align:left;vertical-align:top}
th{background:#f3f5f7}table.num td:not(:first-child){text-align:right;font-variant-numeric:tabular-nums}table.kv td:first-child{color:#555;white-space:nowrap}
table.kv th{display:none}code{font-size:13px;word-break:break-all}
pre{background:#f6f8fa;border:1px solid #d0d7de;padding:12px;font-size:13px;overflow-x:auto;white-space:pre-wrap}
.warnings{background:#fff4e5;border:2px solid #e67700;border-radius:6px;padding:10px 14px 10px 34px;font-size:16px;margin:8px 0}
.warnings li{margin:4px 0}.warnings span{color:#c25400;font-weight:bold}
.ok{color:#1a7f37}.none{color:#666;font-style:italic}.alert{background:#fff4e5;border-left:5px solid #e67700;padding:8px 12px}
.alert-inline{color:#9a3b00}.big{font-size:16px}
figure{margin:8px 0 16px;break-inside:avoid;page-break-inside:avoid}figure img{max-width:100%;height:auto;border:1px solid #e1e4e8}
figcaption{color:#555;font-size:13px}.panels{display:flex;flex-wrap:wrap;gap:12px}.panels figure{max-width:320px}
section{break-inside:auto}h2{break-after:avoid;page-break-after:avoid}
@media print{body{max-width:none;padding:0;font-size:12px}h2{margin-top:18px}pre{white-space:pre-wrap}}
`;

const figureHtml = (f: Figure | undefined, missing: string): string =>
  f ? `<figure><img src="data:image/png;base64,${f.png.toString("base64")}" alt="${h(f.alt)}">${f.caption ? `<figcaption>${h(f.caption)}</figcaption>` : ""}</figure>` : none(missing);

function headline(run: RunFolder): string {
  const r = run.report;
  if (!r) return "";
  const tiles: Array<[string, Estimate]> = [["accuracy", r.accuracy], ["macro F1", r.macro_f1], ["macro ROC AUC", r.macro_auc]];
  if (r.binary) tiles.push([`sensitivity (${r.binary.positive_class})`, r.binary.test.sensitivity], ["specificity", r.binary.test.specificity]);
  const ci = (e: Estimate): string => (e.low === null || e.high === null ? "" : `<small>95% CI ${num(e.low)}–${num(e.high)}</small>`);
  return `<div class="headline">${tiles.map(([k, e]) => `<div>${h(k)}<b>${num(e.value)}</b>${ci(e)}</div>`).join("")}</div>`;
}

/** A run that completed without evaluating stopped there on purpose: `tlrun audit` runs prepare, extract and the audit only. */
const auditOnly = (run: RunFolder): boolean => !run.report && run.summary?.status === "completed" && existsSync(join(run.dir, "audit", "audit.json"));

function body(id: SectionId, p: PageInput): string {
  const { run, figures } = p;
  const noEval = auditOnly(run)
    ? "No evaluation: this run stopped after the data audit, as tlrun audit does; tlrun run trains and evaluates."
    : "No evaluation: the run ended before the evaluate stage.";
  switch (id) {
    case "warnings": return warningsHtml(run);
    case "metrics": return run.report ? metricsHtml(run.report) : none(noEval);
    case "operating-point": return operatingPointHtml(run.report);
    case "confusion": return figureHtml(figures.confusion, noEval);
    case "roc": return figureHtml(figures.roc, run.report ? "This report.json has no ROC curves (written by an older tlrun)." : noEval);
    case "pr": return figureHtml(figures.pr, run.report ? "This report.json has no precision-recall curves (written by an older tlrun)." : noEval);
    case "reliability": return figureHtml(figures.reliability, run.report ? "This report.json has no calibration bins (written by an older tlrun)." : noEval);
    case "explain": return (p.panels.length ? `<p>Most confident errors first: false negatives, then false positives, then correct ones.</p><div class="panels">${p.panels.map((f) => figureHtml(f, "")).join("")}</div>` : none("No Grad-CAM panels: evaluate.explain is off for this run."))
      + p.others.map((f) => figureHtml(f, "")).join("");
    case "audit": return auditHtml(run.dir);
    case "data": return dataHtml(run);
    case "training": return figureHtml(figures.training, "No training epochs were recorded.");
    case "events": return eventsHtml(run);
    case "config": return configHtml(run);
    case "environment": return environmentHtml(run, p.versions);
  }
}

/** The whole report page: one file, CSS inline, images inlined, no scripts. */
export function reportHtml(p: PageInput): string {
  const s = p.run.summary;
  const name = s?.name ?? String(p.run.config.name ?? p.run.id);
  const when = s?.ended_at ?? s?.started_at ?? "";
  // an audit-only run's page opens on its findings, not on a row of empty evaluation sections
  const order = auditOnly(p.run) ? [SECTIONS[0], ...SECTIONS.filter(([id]) => id === "audit"), ...SECTIONS.slice(1).filter(([id]) => id !== "audit")] : SECTIONS;
  const sections = order.map(([id, title]) => `<section id="${id}"><h2>${h(title)}</h2>${body(id, p)}</section>`).join("\n");
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${h(name)} — tlrun report</title><style>${CSS}${AUDIT_CSS}</style></head>
<body><header><h1>${h(name)}</h1><p class="sub">tlrun run <code>${h(s?.run_id ?? p.run.id)}</code> · ${h(s?.status ?? "unknown status")} · ${h(when)}</p>${headline(p.run)}</header>
${sections}
</body></html>
`;
}
