import type { EvaluationReport, OperatingPoint } from "../evaluation/types";
import { estimate, num, ruleText, threshold } from "./format";
import type { RunFolder } from "./read-run";

/** The report page's sections, each a function of the run folder returning its inner HTML. */

export const h = (s: unknown): string => String(s ?? "").replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&#39;");
export const none = (what: string): string => `<p class="none">${h(what)}</p>`;
const table = (head: string[], rows: string[][], cls = ""): string =>
  `<table${cls ? ` class="${cls}"` : ""}><thead><tr>${head.map((c) => `<th>${c}</th>`).join("")}</tr></thead><tbody>${rows.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join("")}</tr>`).join("")}</tbody></table>`;

/** Every warning the run gave: the evaluation's (collapse, low recall, kept head) first, then the run's. */
export function warningsHtml(run: RunFolder): string {
  // summary.json holds evaluate's warnings too: each once
  const items = [...new Set([...(run.report?.warnings ?? []).map((w) => w.message), ...(run.summary?.warnings ?? [])])];
  if (run.summary?.error) items.unshift(`the run ${run.summary.status}: ${run.summary.error}`);
  if (!items.length) return `<p class="ok">No warnings.</p>`;
  return `<ul class="warnings">${items.map((m) => `<li><span aria-hidden="true">⚠</span> ${h(m)}</li>`).join("")}</ul>`;
}

export function metricsHtml(r: EvaluationReport | undefined): string {
  if (!r) return none("No evaluation: the run ended before the evaluate stage wrote report.json.");
  const b = r.bootstrap;
  const ci = b.resamples > 0 ? `95% intervals from ${b.resamples.toLocaleString("en")} bootstrap resamples of the ${h(r.split)} split (seed ${h(b.seed)}).` : "Confidence intervals are off (evaluate.bootstrap: 0).";
  const overall = table(["measure", `value on ${h(r.split)} (95% CI)`], [
    ["accuracy", estimate(r.accuracy)],
    ["macro F1", estimate(r.macro_f1)],
    ["macro ROC AUC (one vs rest)", estimate(r.macro_auc)],
    ["macro precision", num(r.macro_precision)],
    ["macro recall", num(r.macro_recall)],
    ["log loss", num(r.log_loss)],
    ["expected calibration error", num(r.calibration.ece)],
  ], "narrow");
  const perClass = table(["class", "precision (PPV)", "recall (sensitivity)", "specificity", "F1", "ROC AUC", "images"], r.classes.map((c) => {
    const m = r.per_class[c];
    return [h(c), num(m?.precision), num(m?.recall), num(m?.specificity), num(m?.f1), num(m?.auc), String(m?.support ?? 0)];
  }), "num");
  const weights = r.weights === "head-kept" ? `<p class="alert">Fine-tuning did not beat the head on validation, so these are the metrics of the <b>head's</b> weights; the fine-tuned weights were discarded.</p>` : "";
  return `${weights}<p>${h(r.n)} ${h(r.split)} images, predictions from ${h(r.source)}. ${ci}</p>${overall}<h3>Per class</h3>${perClass}`;
}

const pointRows = (val: OperatingPoint | null, test: OperatingPoint): string[][] => {
  const cell = (p: OperatingPoint | null, f: (p: OperatingPoint) => string): string => (p ? f(p) : "—");
  return [
    ["sensitivity (recall of the positive class)", cell(val, (p) => estimate(p.sensitivity)), estimate(test.sensitivity)],
    ["specificity", cell(val, (p) => estimate(p.specificity)), estimate(test.specificity)],
    ["PPV (precision)", cell(val, (p) => estimate(p.ppv)), estimate(test.ppv)],
    ["NPV", cell(val, (p) => estimate(p.npv)), estimate(test.npv)],
    ["true positives / false negatives", cell(val, (p) => `${p.tp} / ${p.fn}`), `${test.tp} / ${test.fn}`],
    ["true negatives / false positives", cell(val, (p) => `${p.tn} / ${p.fp}`), `${test.tn} / ${test.fp}`],
  ];
};

export function operatingPointHtml(r: EvaluationReport | undefined): string {
  if (!r) return none("No evaluation.");
  const b = r.binary;
  if (!b) return none(`Not a two-class task: each image gets the class with the highest probability (${r.classes.length} classes).`);
  return `<p class="big">Positive class <b>${h(b.positive_class)}</b> (negative: ${h(b.negative_class)}). An image is called ${h(b.positive_class)} when its probability is at least <b>${threshold(b.threshold)}</b> — ${h(ruleText(b.rule))}. ROC AUC ${estimate(b.auc)}.</p>`
    + (b.val ? "" : `<p class="none">The validation split is empty, so the threshold could not be chosen on it.</p>`)
    + table(["at this threshold", "validation (where it was chosen)", `${h(r.split)} (applied)`], pointRows(b.val, b.test), "num");
}

export function dataHtml(run: RunFolder): string {
  const counts = run.counts;
  const classes = run.classes ?? run.report?.classes ?? [];
  if (!counts || !classes.length) return none("No manifest.json: the run ended before the data was prepared.");
  const splits = Object.keys(counts);
  const total = (s: string): number => classes.reduce((a, c) => a + (counts[s]?.[c] ?? 0), 0);
  const rows = splits.map((s) => [h(s), ...classes.map((c) => String(counts[s]?.[c] ?? 0)), String(total(s))]);
  rows.push(["<b>all</b>", ...classes.map((c) => `<b>${splits.reduce((a, s) => a + (counts[s]?.[c] ?? 0), 0)}</b>`), `<b>${splits.reduce((a, s) => a + total(s), 0)}</b>`]);
  const d = run.summary?.data as { bad_images?: number; skipped_files?: number } | undefined;
  const left = d && (d.bad_images || d.skipped_files) ? `<p>Left out: ${d.bad_images ?? 0} unreadable images, ${d.skipped_files ?? 0} other files.</p>` : "";
  return table(["split", ...classes.map(h), "total"], rows, "num") + left;
}

type StageFacts = Record<string, string | number | boolean | null>;
const PHASES: Array<[string, "head" | "fine_tune", string]> = [["train-head", "head", "Head"], ["fine-tune", "fine_tune", "Fine-tune"]];

/** The global epochs whose weights each phase kept (its best epoch when restored, else its last). */
export function keptEpochs(run: RunFolder): number[] {
  const out: number[] = [];
  for (const [stage, phase] of PHASES) {
    const info = run.summary?.stages.find((s) => s.name === stage)?.info;
    const es = earlyStopping(run, phase);
    const eps = run.epochs.filter((e) => e.phase === phase);
    if (!info || !eps.length) continue;
    const kept = es.restore_best && typeof info.best_epoch === "number" ? eps.find((e) => e.epoch === info.best_epoch) : eps.at(-1);
    if (kept) out.push(Number(kept.global_epoch));
  }
  return out;
}

function earlyStopping(run: RunFolder, phase: "head" | "fine_tune"): { enabled?: boolean; monitor?: string; patience?: number; restore_best?: boolean; epochs?: number } {
  const p = ((run.config.train as Record<string, unknown> | undefined)?.[phase] ?? {}) as { epochs?: number; early_stopping?: Record<string, unknown> };
  return { ...(p.early_stopping ?? {}), epochs: p.epochs } as ReturnType<typeof earlyStopping>;
}

/** What early stopping did in each phase, and whether the fine-tuned weights were kept. */
export function eventsHtml(run: RunFolder): string {
  const lines: string[] = [];
  for (const [stage, phase, label] of PHASES) {
    const s = run.summary?.stages.find((x) => x.name === stage);
    if (!s) continue;
    const info: StageFacts = s.info ?? {};
    const es = earlyStopping(run, phase);
    const ran = typeof info.epochs_run === "number" ? info.epochs_run : run.epochs.filter((e) => e.phase === phase).length;
    const planned = es.epochs ?? ran;
    let line = `<b>${label}</b>: ran ${h(ran)} of ${h(planned)} epochs${s.cached ? " (taken from the cache)" : ""}.`;
    if (info.stopped_early === true) line += ` Stopped early: ${h(es.monitor ?? "the monitored value")} did not improve for ${h(es.patience ?? "?")} epochs.`;
    else if (es.enabled) line += ` Early stopping was on and did not trigger.`;
    if (typeof info.best_epoch === "number" && info.best_epoch > 0)
      line += es.restore_best ? ` Restored the weights of its best epoch, ${h(info.best_epoch)} (by ${h(es.monitor ?? "val_loss")}).` : ` Best epoch by ${h(es.monitor ?? "val_loss")}: ${h(info.best_epoch)}; the last epoch's weights were kept.`;
    lines.push(`<li>${line}</li>`);
  }
  if (run.report?.weights === "head-kept") lines.push(`<li class="alert-inline"><b>Fine-tuning did not beat the head</b> on validation: tlrun kept the head's weights, and every metric in this report is the head's.</li>`);
  else if (run.report?.weights === "fine-tune") lines.push(`<li>The evaluated model carries the fine-tuned weights.</li>`);
  return lines.length ? `<ul>${lines.join("")}</ul>` : none("No training stage ran.");
}

export function environmentHtml(run: RunFolder, versions: { tlrun: string; tfjs?: string; tfjsNode?: string }): string {
  const s = run.summary;
  const stageInfo = (name: string): StageFacts => s?.stages.find((x) => x.name === name)?.info ?? {};
  const weightsKey = s?.stages.find((x) => x.name === "weights")?.key;
  const rows: Array<[string, string | undefined]> = [
    ["run", s?.run_id ?? run.id],
    ["status", s ? `${s.status}${s.seconds !== undefined ? ` in ${s.seconds.toFixed(1)} s` : ""}` : undefined],
    ["started", s?.started_at],
    ["backend", s?.backend || undefined],
    ["frozen base forward pass", (stageInfo("evaluate").forward ?? stageInfo("fine-tune").frozen_forward) as string | undefined],
    ["tlrun version", versions.tlrun],
    ["TensorFlow.js version", versions.tfjs],
    ["tfjs-node (native backend) version", versions.tfjsNode],
    ["base weights digest", weightsKey],
    ["trained model weights sha256", run.modelSha256],
    ["git commit", run.gitCommit],
    ["host", s?.host],
  ];
  return table(["", ""], rows.filter((r): r is [string, string] => !!r[1]).map(([k, v]) => [h(k), `<code>${h(v)}</code>`]), "kv");
}

export const configHtml = (run: RunFolder): string => (run.configText ? `<pre>${h(run.configText)}</pre>` : none("No config.resolved.yaml in the run folder."));
