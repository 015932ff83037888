/** Shared pieces of the report's SVG charts: escaping, fonts, colours and a framed x/y plot area. */

export const esc = (s: string): string => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
export const FONT = `font-family="DejaVu Sans, Arial, sans-serif"`;
/** Ten colours that stay distinct for the colour-blind in most pairs (Tableau 10). */
export const PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];
export const colorOf = (i: number): string => PALETTE[i % PALETTE.length]!;

export const svgDoc = (width: number, height: number, body: string): string => {
  const [w, h] = [Math.ceil(width), Math.ceil(height)];
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}"><rect width="${w}" height="${h}" fill="white"/>${body}</svg>`;
};

export function text(x: number, y: number, s: string, opts: { size?: number; anchor?: "start" | "middle" | "end"; fill?: string; weight?: string; rotate?: number } = {}): string {
  const rot = opts.rotate ? ` transform="rotate(${opts.rotate} ${x.toFixed(1)} ${y.toFixed(1)})"` : "";
  return `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" ${FONT} font-size="${opts.size ?? 12}" text-anchor="${opts.anchor ?? "start"}" fill="${opts.fill ?? "#222"}"${opts.weight ? ` font-weight="${opts.weight}"` : ""}${rot}>${esc(s)}</text>`;
}

/** About `count` round tick values covering [min, max] (steps of 1, 2 or 5 times a power of ten). */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!(max > min)) return [min];
  const raw = (max - min) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw * 0.7)!;
  const out: number[] = [];
  for (let v = Math.ceil(min / step - 1e-9) * step; v <= max + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

const tickLabel = (v: number): string => (Number.isInteger(v) ? String(v) : Number(v.toPrecision(3)).toString());

export interface Frame {
  /** Data to pixel coordinates. */
  px(x: number): number;
  py(y: number): number;
  left: number;
  right: number;
  top: number;
  bottom: number;
  svg: string;
}

export interface FrameSpec {
  x0: number;
  y0: number;
  w: number;
  h: number;
  x: [number, number];
  y: [number, number];
  title: string;
  xLabel: string;
  yLabel: string;
  xTicks?: number[];
  yTicks?: number[];
}

/** A plot area with title, axis labels, ticks and light grid lines; returns the scales for the data. */
export function frame(f: FrameSpec): Frame {
  const left = f.x0 + 64, right = f.x0 + f.w - 16, top = f.y0 + 44, bottom = f.y0 + f.h - 52;
  const px = (x: number): number => left + ((x - f.x[0]) / (f.x[1] - f.x[0] || 1)) * (right - left);
  const py = (y: number): number => bottom - ((y - f.y[0]) / (f.y[1] - f.y[0] || 1)) * (bottom - top);
  const parts = [text(f.x0 + f.w / 2, f.y0 + 24, f.title, { size: 16, anchor: "middle", weight: "bold" })];
  for (const t of f.yTicks ?? niceTicks(f.y[0], f.y[1])) {
    parts.push(`<line x1="${left}" y1="${py(t).toFixed(1)}" x2="${right}" y2="${py(t).toFixed(1)}" stroke="#e4e4e4"/>`);
    parts.push(text(left - 6, py(t) + 4, tickLabel(t), { size: 12, anchor: "end" }));
  }
  for (const t of f.xTicks ?? niceTicks(f.x[0], f.x[1])) {
    parts.push(`<line x1="${px(t).toFixed(1)}" y1="${top}" x2="${px(t).toFixed(1)}" y2="${bottom}" stroke="#eeeeee"/>`);
    parts.push(`<line x1="${px(t).toFixed(1)}" y1="${bottom}" x2="${px(t).toFixed(1)}" y2="${bottom + 5}" stroke="#333"/>`);
    parts.push(text(px(t), bottom + 19, tickLabel(t), { size: 12, anchor: "middle" }));
  }
  parts.push(`<rect x="${left}" y="${top}" width="${right - left}" height="${bottom - top}" fill="none" stroke="#333"/>`);
  parts.push(text((left + right) / 2, f.y0 + f.h - 12, f.xLabel, { size: 13, anchor: "middle" }));
  parts.push(text(f.x0 + 16, (top + bottom) / 2, f.yLabel, { size: 13, anchor: "middle", rotate: -90 }));
  return { px, py, left, right, top, bottom, svg: parts.join("") };
}

/** A line through points, skipping non-finite values. */
export function polyline(points: Array<[number, number]>, f: Frame, color: string, opts: { width?: number; dash?: string } = {}): string {
  const pts = points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y)).map(([x, y]) => `${f.px(x).toFixed(1)},${f.py(y).toFixed(1)}`);
  if (!pts.length) return "";
  return `<polyline fill="none" stroke="${color}" stroke-width="${opts.width ?? 2}"${opts.dash ? ` stroke-dasharray="${opts.dash}"` : ""} stroke-linejoin="round" points="${pts.join(" ")}"/>`;
}

/** A legend box: one coloured swatch and label per entry, at (x, y) going down. */
export function legend(x: number, y: number, entries: Array<{ label: string; color: string; dash?: string; ring?: boolean }>, size = 12): string {
  const lineH = size + 6;
  const width = Math.max(...entries.map((e) => e.label.length)) * size * 0.6 + 40;
  const parts = [`<rect x="${x}" y="${y}" width="${width.toFixed(0)}" height="${entries.length * lineH + 8}" fill="white" fill-opacity="0.9" stroke="#bbb"/>`];
  entries.forEach((e, i) => {
    const cy = y + 4 + i * lineH + lineH / 2;
    parts.push(e.ring
      ? `<circle cx="${x + 18}" cy="${cy}" r="6" fill="none" stroke="${e.color}" stroke-width="2.5"/>`
      : `<line x1="${x + 8}" y1="${cy}" x2="${x + 28}" y2="${cy}" stroke="${e.color}" stroke-width="3"${e.dash ? ` stroke-dasharray="${e.dash}"` : ""}/>`);
    parts.push(text(x + 34, cy + size * 0.35, e.label, { size }));
  });
  return parts.join("");
}

/** A legend's width for these labels, to place it inside a frame's corner. */
export const legendWidth = (labels: string[], size = 12): number => Math.max(...labels.map((l) => l.length)) * size * 0.6 + 40;
export const legendHeight = (n: number, size = 12): number => n * (size + 6) + 8;
