import { esc, FONT, svgDoc, text } from "./svg-common";

/**
 * The confusion matrix as SVG: each cell holds the count and its share of the true class's row,
 * shaded by that share, so a class the model misses stands out even when it is rare.
 */
export function confusionSvg(classes: string[], m: number[][]): string {
  const n = classes.length;
  const cell = Math.max(44, Math.min(96, Math.floor(520 / Math.max(n, 1))));
  const longest = Math.max(4, ...classes.map((c) => c.length));
  const left = Math.min(280, 70 + longest * 7.5), top = 70;
  const w = Math.max(left + n * cell + 30, 560), h = top + n * cell + Math.min(200, 40 + longest * 6);
  const parts: string[] = [
    text(w / 2, 26, "Confusion matrix", { size: 18, anchor: "middle", weight: "bold" }),
    text(w / 2, 48, "rows: true class · columns: predicted class · % of the true class", { size: 12, anchor: "middle", fill: "#555" }),
  ];
  m.forEach((row, i) => {
    const total = row.reduce((a, b) => a + b, 0) || 1;
    parts.push(text(left - 8, top + i * cell + cell / 2 + 5, classes[i] ?? String(i), { size: 13, anchor: "end" }));
    row.forEach((v, k) => {
      const share = v / total;
      const [r, g] = [Math.round(255 - share * 215), Math.round(255 - share * 165)];
      const x = left + k * cell, y = top + i * cell;
      const ink = share > 0.55 ? "white" : "#111";
      parts.push(`<rect x="${x}" y="${y}" width="${cell}" height="${cell}" fill="rgb(${r},${g},255)" stroke="${i === k ? "#333" : "#aaa"}" stroke-width="${i === k ? 2 : 1}"/>`);
      parts.push(`<text x="${x + cell / 2}" y="${y + cell / 2 + (cell >= 56 ? 0 : 5)}" ${FONT} font-size="${cell >= 56 ? 16 : 13}" font-weight="bold" text-anchor="middle" fill="${ink}">${v}</text>`);
      if (cell >= 56) parts.push(`<text x="${x + cell / 2}" y="${y + cell / 2 + 18}" ${FONT} font-size="11" text-anchor="middle" fill="${ink}">${(share * 100).toFixed(0)}%</text>`);
    });
  });
  classes.forEach((c, k) => {
    const x = left + k * cell + cell / 2, y = top + n * cell + 14;
    parts.push(`<text x="${x}" y="${y}" ${FONT} font-size="13" text-anchor="end" transform="rotate(-40 ${x} ${y})">${esc(c)}</text>`);
  });
  parts.push(text(left + (n * cell) / 2, h - 10, "predicted class", { size: 13, anchor: "middle", weight: "bold" }));
  parts.push(text(16, top + (n * cell) / 2, "true class", { size: 13, anchor: "middle", weight: "bold", rotate: -90 }));
  return svgDoc(w, h, parts.join(""));
}
