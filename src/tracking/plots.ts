import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import sharp from "sharp";
import { writeFileAtomic } from "../util/atomic";
import type { Journal } from "./journal";

const esc = (s: string): string => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
const FONT = `font-family="DejaVu Sans, Arial, sans-serif"`;

/** The confusion matrix as SVG: counts in cells shaded by row-normalised share. */
export function confusionSvg(classes: string[], m: number[][]): string {
  const n = classes.length;
  const cell = Math.max(28, Math.min(80, Math.floor(480 / Math.max(n, 1))));
  const left = 170, top = 60;
  const w = Math.max(left + n * cell + 20, 560), h = top + n * cell + 130;
  const parts: string[] = [`<rect width="${w}" height="${h}" fill="white"/>`, `<text x="${w / 2}" y="28" ${FONT} font-size="18" text-anchor="middle">Confusion matrix (rows: true, columns: predicted)</text>`];
  m.forEach((row, i) => {
    const total = row.reduce((a, b) => a + b, 0) || 1;
    parts.push(`<text x="${left - 8}" y="${top + i * cell + cell / 2 + 5}" ${FONT} font-size="12" text-anchor="end">${esc(classes[i] ?? String(i))}</text>`);
    row.forEach((v, k) => {
      const share = v / total;
      const shade = Math.round(255 - share * 200);
      parts.push(`<rect x="${left + k * cell}" y="${top + i * cell}" width="${cell}" height="${cell}" fill="rgb(${shade},${shade},255)" stroke="#999"/>`);
      parts.push(`<text x="${left + k * cell + cell / 2}" y="${top + i * cell + cell / 2 + 5}" ${FONT} font-size="13" text-anchor="middle" fill="${share > 0.6 ? "white" : "black"}">${v}</text>`);
    });
  });
  classes.forEach((c, k) => {
    const x = left + k * cell + cell / 2, y = top + n * cell + 10;
    parts.push(`<text x="${x}" y="${y}" ${FONT} font-size="12" text-anchor="end" transform="rotate(-45 ${x} ${y})">${esc(c)}</text>`);
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}">${parts.join("")}</svg>`;
}

type Series = { name: string; color: string; points: Array<[number, number]> };

function chart(title: string, series: Series[], x0: number, y0: number, w: number, h: number, boundaries: number[]): string {
  const all = series.flatMap((s) => s.points).filter(([, y]) => Number.isFinite(y));
  if (!all.length) return "";
  const xs = all.map((p) => p[0]), ys = all.map((p) => p[1]);
  const [xmin, xmax] = [Math.min(...xs), Math.max(...xs)];
  let [ymin, ymax] = [Math.min(...ys), Math.max(...ys)];
  if (ymax - ymin < 1e-9) [ymin, ymax] = [ymin - 0.5, ymax + 0.5];
  const px = (x: number): number => x0 + 50 + ((x - xmin) / Math.max(xmax - xmin, 1)) * (w - 70);
  const py = (y: number): number => y0 + h - 30 - ((y - ymin) / (ymax - ymin)) * (h - 60);
  const out = [`<text x="${x0 + w / 2}" y="${y0 + 18}" ${FONT} font-size="15" text-anchor="middle">${esc(title)}</text>`,
    `<line x1="${x0 + 50}" y1="${y0 + h - 30}" x2="${x0 + w - 20}" y2="${y0 + h - 30}" stroke="#333"/>`,
    `<line x1="${x0 + 50}" y1="${y0 + 30}" x2="${x0 + 50}" y2="${y0 + h - 30}" stroke="#333"/>`,
    `<text x="${x0 + 45}" y="${py(ymax) + 4}" ${FONT} font-size="11" text-anchor="end">${ymax.toPrecision(3)}</text>`,
    `<text x="${x0 + 45}" y="${py(ymin) + 4}" ${FONT} font-size="11" text-anchor="end">${ymin.toPrecision(3)}</text>`,
    `<text x="${x0 + w / 2}" y="${y0 + h - 8}" ${FONT} font-size="11" text-anchor="middle">epoch (global step)</text>`];
  for (const b of boundaries) out.push(`<line x1="${px(b)}" y1="${y0 + 30}" x2="${px(b)}" y2="${y0 + h - 30}" stroke="#bbb" stroke-dasharray="4 3"/>`);
  series.forEach((s, i) => {
    const pts = s.points.filter(([, y]) => Number.isFinite(y)).map(([x, y]) => `${px(x).toFixed(1)},${py(y).toFixed(1)}`);
    out.push(`<polyline fill="none" stroke="${s.color}" stroke-width="2" points="${pts.join(" ")}"/>`);
    for (const p of pts) out.push(`<circle cx="${p.split(",")[0]}" cy="${p.split(",")[1]}" r="3" fill="${s.color}"/>`);
    out.push(`<text x="${x0 + w - 30}" y="${y0 + 40 + i * 16}" ${FONT} font-size="12" text-anchor="end" fill="${s.color}">${esc(s.name)}</text>`);
  });
  return out.join("");
}

/** Loss and accuracy per global epoch, train against validation; dashed lines mark phase changes. */
export function curvesSvg(epochs: Journal["epochs"]): string {
  const pts = (k: string): Array<[number, number]> => epochs.map((e) => [Number(e.global_epoch), Number(e[k])]);
  const boundaries = epochs.filter((e, i) => i > 0 && e.phase !== epochs[i - 1]!.phase).map((e) => Number(e.global_epoch) - 0.5);
  const w = 900, h = 340;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}"><rect width="${w}" height="${h}" fill="white"/>${chart("Loss", [
    { name: "train", color: "#1f77b4", points: pts("loss") }, { name: "validation", color: "#ff7f0e", points: pts("val_loss") },
  ], 0, 0, w / 2, h, boundaries)}${chart("Accuracy", [
    { name: "train", color: "#1f77b4", points: pts("accuracy") }, { name: "validation", color: "#ff7f0e", points: pts("val_accuracy") },
  ], w / 2, 0, w / 2, h, boundaries)}</svg>`;
}

/** Write runs/<id>/plots/*.png from the journal once the run has ended; existing files are kept. */
export async function renderPlots(j: Journal): Promise<string[]> {
  if (j.summary.status === "running") return [];
  const written: string[] = [];
  const out = async (name: string, svg: string): Promise<void> => {
    const path = join(j.dir, "plots", name);
    if (existsSync(path)) return;
    writeFileAtomic(path, await sharp(Buffer.from(svg)).png().toBuffer());
    written.push(path);
  };
  const reportPath = join(j.dir, "report.json");
  if (existsSync(reportPath)) {
    const r = JSON.parse(readFileSync(reportPath, "utf8")) as { classes?: string[]; confusion?: number[][] };
    if (r.classes && r.confusion) await out("confusion_matrix.png", confusionSvg(r.classes, r.confusion));
  }
  if (j.epochs.length) await out("training_curves.png", curvesSvg(j.epochs));
  return written;
}
