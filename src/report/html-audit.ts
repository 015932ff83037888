import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { AUDIT_THUMBS, REPORT_TOP, pairEvidence, type AuditRecord, type AuditThumbs } from "../stages/audit-output";
import { num } from "./format";
import { h, none } from "./html-sections";

/** CSS of the audit section, appended to the page's. */
export const AUDIT_CSS = `
.pairs{display:flex;flex-wrap:wrap;gap:14px}.pair,.one{border:1px solid #d0d7de;border-radius:6px;padding:8px;font-size:12px;background:#fafbfc}
.pair .imgs{display:flex;gap:6px}.pair img,.one img{width:112px;height:112px;object-fit:contain;background:#fff;border:1px solid #e1e4e8;display:block}
.pair .cap,.one .cap{max-width:236px;margin-top:4px;overflow-wrap:anywhere}.leak{color:#b42318;font-weight:bold}.one{width:150px}.one img{margin:0 auto}
`;

/** A thumbnail from runs/<id>/audit/thumbs.json, inlined; an empty box when the run kept none. */
function thumb(thumbs: AuditThumbs, path: string): string {
  const b64 = thumbs[path];
  if (!b64) return `<img alt="${h(path)} (no thumbnail)">`;
  return `<img src="data:image/jpeg;base64,${b64}" alt="${h(path)}" title="${h(path)}">`;
}

function readThumbs(dir: string): AuditThumbs {
  try {
    return JSON.parse(readFileSync(join(dir, "audit", AUDIT_THUMBS), "utf8")) as AuditThumbs;
  } catch {
    return {}; // no thumbnails: the pairs are still listed by path
  }
}

function pairsHtml(t: AuditThumbs, r: AuditRecord): string {
  if (!r.duplicates.length) return `<p class="ok">No duplicate or near-duplicate pairs.</p>`;
  const cards = r.duplicates.slice(0, REPORT_TOP).map((d, i) => {
    const cross = d.splits[0] !== d.splits[1];
    return `<div class="pair"><div class="imgs">${thumb(t, d.paths[0])}${thumb(t, d.paths[1])}</div><div class="cap">`
      + `<span class="${cross ? "leak" : ""}">${h(d.splits[0])} ↔ ${h(d.splits[1])}${cross ? " (leak)" : ""}</span><br>${h(pairEvidence(r, i))}<br>`
      + `<code>${h(d.paths[0])}</code><br><code>${h(d.paths[1])}</code></div></div>`;
  });
  return `<div class="pairs">${cards.join("")}</div>`;
}

function singlesHtml(t: AuditThumbs, rows: Array<{ path: string; text: string }>, empty: string): string {
  if (!rows.length) return `<p class="ok">${h(empty)}</p>`;
  return `<div class="pairs">${rows.slice(0, REPORT_TOP).map((x) => `<div class="one">${thumb(t, x.path)}<div class="cap">${x.text}<br><code>${h(x.path)}</code></div></div>`).join("")}</div>`;
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
  const thumbs = readThumbs(dir);
  const cross = r.duplicates.filter((d) => d.splits[0] !== d.splits[1]).length;
  const lead = `<p>${r.duplicates.length} duplicate pairs (${cross} across splits), ${r.label_issues.length} labels an out-of-sample probe doubts, ${r.outliers.length} outliers`
    + `${r.dropped.length ? `; <b>${r.dropped.length} image${r.dropped.length === 1 ? "" : "s"} dropped</b> from training and evaluation (audit/dropped.csv)` : ""}. Every finding is in the run's <code>audit/*.csv</code>.</p>`;
  const thresholds = Object.entries(r.thresholds).map(([k, v]) => `<code>${h(k)}</code> ${h(v)}`).join(", ");
  return lead
    + `<h3>Duplicates and leaks (top ${Math.min(REPORT_TOP, r.duplicates.length)}, pairs across splits first)</h3>${pairsHtml(thumbs, r)}`
    + `<h3>Labels the probe doubts (likeliest errors first)</h3>${singlesHtml(thumbs, r.label_issues.map((l) => ({ path: l.path, text: `${h(l.label)} → <b>${h(l.suggested)}</b> · ${num(l.score)}` })), "No label the probe doubts.")}`
    + `<h3>Outliers (most unusual first)</h3>${singlesHtml(thumbs, r.outliers.map((o) => ({ path: o.path, text: `score ${num(o.score)}` })), "No outliers.")}`
    + (thresholds ? `<p class="sub">Thresholds: ${thresholds}.</p>` : "");
}
