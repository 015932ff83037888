import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { REPORT_TOP, type AuditRecord } from "../stages/audit-output";
import { num } from "./format";
import { h, none } from "./html-sections";

/** CSS of the audit section, appended to the page's. */
export const AUDIT_CSS = `
.pairs{display:flex;flex-wrap:wrap;gap:14px}.pair,.one{border:1px solid #d0d7de;border-radius:6px;padding:8px;font-size:12px;background:#fafbfc}
.pair .imgs{display:flex;gap:6px}.pair img,.one img{width:112px;height:112px;object-fit:contain;background:#fff;border:1px solid #e1e4e8;display:block}
.pair .cap,.one .cap{max-width:236px;margin-top:4px;word-break:break-all}.leak{color:#b42318;font-weight:bold}.one .cap{max-width:112px}
`;

/** A thumbnail from runs/<id>/audit/thumbs/, inlined; an empty box when the run kept none. */
function thumb(dir: string, r: AuditRecord, path: string): string {
  const file = r.thumbs[path] && join(dir, "audit", "thumbs", r.thumbs[path]!);
  if (!file || !existsSync(file)) return `<img alt="${h(path)} (no thumbnail)">`;
  return `<img src="data:image/jpeg;base64,${readFileSync(file).toString("base64")}" alt="${h(path)}" title="${h(path)}">`;
}

function pairsHtml(dir: string, r: AuditRecord): string {
  if (!r.duplicates.length) return `<p class="ok">No duplicate or near-duplicate pairs.</p>`;
  const cards = r.duplicates.slice(0, REPORT_TOP).map((d) => {
    const cross = d.splits[0] !== d.splits[1];
    return `<div class="pair"><div class="imgs">${thumb(dir, r, d.paths[0])}${thumb(dir, r, d.paths[1])}</div><div class="cap">`
      + `<span class="${cross ? "leak" : ""}">${h(d.splits[0])} ↔ ${h(d.splits[1])}${cross ? " (leak)" : ""}</span><br>${h(d.kind)}, similarity ${num(d.similarity)}<br>`
      + `<code>${h(d.paths[0])}</code><br><code>${h(d.paths[1])}</code></div></div>`;
  });
  return `<div class="pairs">${cards.join("")}</div>`;
}

function singlesHtml(dir: string, r: AuditRecord, rows: Array<{ path: string; text: string }>, empty: string): string {
  if (!rows.length) return `<p class="ok">${h(empty)}</p>`;
  return `<div class="pairs">${rows.slice(0, REPORT_TOP).map((x) => `<div class="one">${thumb(dir, r, x.path)}<div class="cap">${x.text}<br><code>${h(x.path)}</code></div></div>`).join("")}</div>`;
}

/** The report's audit section: the top pairs side by side, label issues with the suggested class, outliers. */
export function auditHtml(dir: string): string {
  const path = join(dir, "audit", "audit.json");
  if (!existsSync(path)) return none("No audit: data.audit.enabled is false for this run, or the run ended before the audit stage.");
  let r: AuditRecord;
  try {
    r = JSON.parse(readFileSync(path, "utf8")) as AuditRecord;
  } catch {
    return none("The audit's audit.json could not be read.");
  }
  const cross = r.duplicates.filter((d) => d.splits[0] !== d.splits[1]).length;
  const lead = `<p>${r.duplicates.length} duplicate pairs (${cross} across splits), ${r.label_issues.length} likely label errors, ${r.outliers.length} outliers`
    + `${r.dropped.length ? `; <b>${r.dropped.length} image${r.dropped.length === 1 ? "" : "s"} dropped</b> from training and evaluation (audit/dropped.csv)` : ""}. Every finding is in the run's <code>audit/*.csv</code>.</p>`;
  const thresholds = Object.entries(r.thresholds).map(([k, v]) => `<code>${h(k)}</code> ${h(v)}`).join(", ");
  return lead
    + `<h3>Duplicates and leaks (top ${Math.min(REPORT_TOP, r.duplicates.length)}, pairs across splits first)</h3>${pairsHtml(dir, r)}`
    + `<h3>Likely label errors (lowest label quality first)</h3>${singlesHtml(dir, r, r.label_issues.map((l) => ({ path: l.path, text: `${h(l.label)} → <b>${h(l.suggested)}</b> · ${num(l.score)}` })), "No likely label errors.")}`
    + `<h3>Outliers (most unusual first)</h3>${singlesHtml(dir, r, r.outliers.map((o) => ({ path: o.path, text: `score ${num(o.score)}` })), "No outliers.")}`
    + (thresholds ? `<p class="sub">Thresholds: ${thresholds}.</p>` : "");
}
