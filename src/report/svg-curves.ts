import { colorOf, frame, legend, legendWidth, niceTicks, polyline, svgDoc, text } from "./svg-common";

/** One line of metrics.jsonl of type "epoch" (see training/callbacks.ts EpochLogs). */
export type EpochRecord = Record<string, number | string | boolean>;

const PHASE_NAMES: Record<string, string> = { head: "head", fine_tune: "fine-tune" };
const phaseName = (p: string): string => PHASE_NAMES[p] ?? p;

function panel(title: string, yLabel: string, epochs: EpochRecord[], keys: [string, string], x0: number, w: number, h: number, best: number[]): string {
  const xs = epochs.map((e) => Number(e.global_epoch));
  const ys = epochs.flatMap((e) => keys.map((k) => Number(e[k]))).filter(Number.isFinite);
  if (!xs.length || !ys.length) return "";
  let [ymin, ymax] = [Math.min(...ys), Math.max(...ys)];
  if (title === "Accuracy") [ymin, ymax] = [Math.min(ymin, 1) > 0.5 ? Math.floor(ymin * 10) / 10 : 0, 1];
  else {
    const pad = (ymax - ymin || 0.5) * 0.08;
    [ymin, ymax] = [Math.max(0, ymin - pad), ymax + pad];
  }
  const [xmin, xmax] = [Math.min(...xs) - 0.5, Math.max(...xs) + 0.5];
  const xTicks = niceTicks(Math.max(1, Math.ceil(xmin)), Math.floor(xmax), 6).filter((t) => Number.isInteger(t));
  const f = frame({ x0, y0: 0, w, h, x: [xmin, xmax], y: [ymin, ymax], title, xLabel: "epoch (both phases, one count)", yLabel, xTicks });
  const parts = [f.svg];
  // phase regions: a dashed line where the phase changes and the phase's name at the top
  const starts = epochs.filter((e, i) => i === 0 || e.phase !== epochs[i - 1]!.phase);
  starts.forEach((e, i) => {
    const gx = Number(e.global_epoch) - 0.5;
    if (i > 0) parts.push(`<line x1="${f.px(gx).toFixed(1)}" y1="${f.top}" x2="${f.px(gx).toFixed(1)}" y2="${f.bottom}" stroke="#555" stroke-width="1.5" stroke-dasharray="6 4"/>`);
    parts.push(text(f.px(gx) + 6, f.top + 16, phaseName(String(e.phase)), { size: 12, fill: "#555", weight: "bold" }));
  });
  const series = keys.map((k, i) => ({ label: i === 0 ? "training" : "validation", color: colorOf(i), points: epochs.map((e) => [Number(e.global_epoch), Number(e[k])] as [number, number]) }));
  for (const s of series) {
    parts.push(polyline(s.points, f, s.color));
    for (const [x, y] of s.points) if (Number.isFinite(y)) parts.push(`<circle cx="${f.px(x).toFixed(1)}" cy="${f.py(y).toFixed(1)}" r="3" fill="${s.color}"/>`);
  }
  // the epoch whose weights were kept, per phase, ringed on the validation line
  for (const g of best) {
    const e = epochs.find((r) => Number(r.global_epoch) === g);
    const y = e ? Number(e[keys[1]]) : NaN;
    if (Number.isFinite(y)) parts.push(`<circle cx="${f.px(g).toFixed(1)}" cy="${f.py(y).toFixed(1)}" r="8" fill="none" stroke="#d62728" stroke-width="2.5"/>`);
  }
  const entries = [...series.map((s) => ({ label: s.label, color: s.color })), ...(best.length ? [{ label: "weights kept", color: "#d62728", ring: true }] : [])];
  parts.push(legend(f.right - legendWidth(entries.map((e) => e.label)) - 6, title === "Loss" ? f.top + 26 : f.bottom - entries.length * 18 - 14, entries));
  return parts.join("");
}

/**
 * Loss and accuracy per epoch, training against validation, both phases on one x axis with a
 * dashed line at the phase change; `best` rings the global epochs whose weights each phase kept.
 */
export function curvesSvg(epochs: EpochRecord[], best: number[] = []): string {
  const w = 1000, h = 380;
  return svgDoc(w, h, panel("Loss", "loss (cross-entropy)", epochs, ["loss", "val_loss"], 0, w / 2, h, best) + panel("Accuracy", "accuracy", epochs, ["accuracy", "val_accuracy"], w / 2, w / 2, h, best));
}
