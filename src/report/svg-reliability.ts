import type { EvaluationReport } from "../evaluation/types";
import { num } from "./format";
import { frame, legend, polyline, svgDoc, text } from "./svg-common";

const UNIT = [0, 0.2, 0.4, 0.6, 0.8, 1];

/**
 * The reliability diagram: per confidence bin, a bar of the observed accuracy (binary: the
 * observed share of positives) against the diagonal a calibrated model would follow, with the
 * number of images in each bin, and the expected calibration error in the title.
 */
export function reliabilitySvg(r: EvaluationReport): string {
  const w = 640, h = 600;
  const binary = r.binary !== null;
  const f = frame({
    x0: 0, y0: 0, w, h, x: [0, 1], y: [0, 1.08],
    title: `Reliability (calibration): ECE ${num(r.calibration.ece)}`,
    xLabel: binary ? `predicted probability of ${r.binary!.positive_class}` : "confidence (probability of the predicted class)",
    yLabel: binary ? `observed share that is ${r.binary!.positive_class}` : "observed accuracy",
    xTicks: UNIT, yTicks: UNIT,
  });
  const parts = [f.svg];
  for (const b of r.calibration.bins) {
    const [x1, x2] = [f.px(b.lo) + 1.5, f.px(b.hi) - 1.5];
    if (b.accuracy !== null && b.count > 0) {
      const y = f.py(b.accuracy);
      parts.push(`<rect x="${x1.toFixed(1)}" y="${y.toFixed(1)}" width="${(x2 - x1).toFixed(1)}" height="${(f.bottom - y).toFixed(1)}" fill="#1f77b4" fill-opacity="0.75" stroke="#1f4e79"/>`);
      if (b.confidence !== null) parts.push(`<line x1="${x1.toFixed(1)}" y1="${f.py(b.confidence).toFixed(1)}" x2="${x2.toFixed(1)}" y2="${f.py(b.confidence).toFixed(1)}" stroke="#d62728" stroke-width="2.5"/>`);
    }
    // the count sits inside the bar's foot, where no line crosses it; a short bar's goes above it
    const tall = b.accuracy !== null && f.bottom - f.py(b.accuracy) > 22;
    if (b.count) parts.push(text((x1 + x2) / 2, tall ? f.bottom - 7 : f.py(Math.max(b.accuracy ?? 0, b.confidence ?? 0)) - 6, `n=${b.count}`, { size: 11, anchor: "middle", fill: tall ? "white" : "#333", weight: "bold" }));
  }
  parts.push(polyline([[0, 0], [1, 1]], f, "#555", { width: 1.5, dash: "6 4" }));
  parts.push(legend(f.left + 8, f.top + 8, [
    { label: binary ? "observed share positive" : "observed accuracy", color: "#1f77b4" },
    { label: "mean predicted probability", color: "#d62728" },
    { label: "perfect calibration", color: "#555", dash: "6 4" },
  ]));
  return svgDoc(w, h, parts.join(""));
}
