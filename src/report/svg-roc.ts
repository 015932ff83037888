import type { Curve, EvaluationReport } from "../evaluation/types";
import { estimate, num, threshold } from "./format";
import { colorOf, frame, legend, legendHeight, legendWidth, polyline, svgDoc, text } from "./svg-common";

interface Line { label: string; color: string; curve: Curve }
interface Mark { x: number; y: number; label: string }

const UNIT = [0, 0.2, 0.4, 0.6, 0.8, 1];
const pairs = (c: Curve): Array<[number, number]> => c.x.map((x, i) => [x, c.y[i]!]);

/** A square unit chart: curves, an optional reference line, the operating point, a legend in the free corner. */
function unitChart(title: string, xLabel: string, yLabel: string, lines: Line[], ref: { points: Array<[number, number]>; label: string } | undefined, mark: Mark | undefined, legendCorner: "br" | "bl"): string {
  const w = 640, h = 600;
  const f = frame({ x0: 0, y0: 0, w, h, x: [0, 1], y: [0, 1], title, xLabel, yLabel, xTicks: UNIT, yTicks: UNIT });
  const parts = [f.svg];
  if (ref) parts.push(polyline(ref.points, f, "#999", { width: 1.5, dash: "6 4" }));
  for (const l of lines) parts.push(polyline(pairs(l.curve), f, l.color, { width: lines.length > 1 ? 2 : 2.5 }));
  if (mark) {
    const [cx, cy] = [f.px(mark.x), f.py(mark.y)];
    parts.push(`<circle cx="${cx.toFixed(1)}" cy="${cy.toFixed(1)}" r="7" fill="#d62728" stroke="white" stroke-width="2"/>`);
    const right = mark.x < 0.55;
    parts.push(text(cx + (right ? 12 : -12), cy + (mark.y > 0.9 ? 18 : -10), mark.label, { size: 12, anchor: right ? "start" : "end", fill: "#d62728", weight: "bold" }));
  }
  const entries = [...lines.map((l) => ({ label: l.label, color: l.color })), ...(ref ? [{ label: ref.label, color: "#999", dash: "6 4" }] : [])];
  const size = entries.length > 6 ? 11 : 12;
  const lw = legendWidth(entries.map((e) => e.label), size), lh = legendHeight(entries.length, size);
  parts.push(legend(legendCorner === "br" ? f.right - lw - 8 : f.left + 8, f.bottom - lh - 8, entries, size));
  return svgDoc(w, h, parts.join(""));
}

/**
 * ROC curves. Binary: one curve for the positive class with the operating point (the threshold
 * chosen on validation, applied to this split) marked. Multi-class: one curve per class, one
 * against the rest, with each class's AUC in the legend.
 */
export function rocSvg(r: EvaluationReport): string {
  const chance = { points: [[0, 0], [1, 1]] as Array<[number, number]>, label: "chance" };
  const labels = { x: "1 − specificity (false positive rate)", y: "sensitivity (true positive rate)" };
  if (r.binary) {
    const b = r.binary;
    const t = b.test;
    const mark = t.sensitivity.value !== null && t.specificity.value !== null
      ? { x: 1 - t.specificity.value, y: t.sensitivity.value, label: `threshold ${threshold(b.threshold)}: sens ${num(t.sensitivity.value, 2)}, spec ${num(t.specificity.value, 2)}` }
      : undefined;
    return unitChart(`ROC: ${b.positive_class} vs ${b.negative_class} (${r.split})`, labels.x, labels.y, [{ label: `AUC ${estimate(b.auc)}`, color: colorOf(0), curve: b.roc }], chance, mark, "br");
  }
  const lines = r.classes.filter((c) => r.roc[c]).map((c, i) => ({ label: `${c}: AUC ${num(r.per_class[c]?.auc)}`, color: colorOf(r.classes.indexOf(c) >= 0 ? r.classes.indexOf(c) : i), curve: r.roc[c]! }));
  return unitChart(`ROC, each class against the rest (${r.split})`, labels.x, labels.y, lines, chance, undefined, "br");
}

/** Precision-recall curves: binary with the operating point and the prevalence line; multi-class one per class. */
export function prSvg(r: EvaluationReport): string {
  const labels = { x: "recall (sensitivity)", y: "precision (positive predictive value)" };
  if (r.binary) {
    const b = r.binary;
    const t = b.test;
    const prevalence = (t.tp + t.fn) / Math.max(1, t.tp + t.fn + t.tn + t.fp);
    const mark = t.sensitivity.value !== null && t.ppv.value !== null
      ? { x: t.sensitivity.value, y: t.ppv.value, label: `threshold ${threshold(b.threshold)}: recall ${num(t.sensitivity.value, 2)}, PPV ${num(t.ppv.value, 2)}` }
      : undefined;
    const ref = { points: [[0, prevalence], [1, prevalence]] as Array<[number, number]>, label: `prevalence ${num(prevalence, 2)}` };
    return unitChart(`Precision-recall: ${b.positive_class} (${r.split})`, labels.x, labels.y, [{ label: `average precision ${num(b.average_precision)}`, color: colorOf(0), curve: b.pr }], ref, mark, "bl");
  }
  const lines = r.classes.filter((c) => r.pr[c]).map((c) => ({ label: c, color: colorOf(r.classes.indexOf(c)), curve: r.pr[c]! }));
  return unitChart(`Precision-recall, each class against the rest (${r.split})`, labels.x, labels.y, lines, undefined, undefined, "bl");
}
