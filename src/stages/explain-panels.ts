import sharp from "sharp";
import { join } from "node:path";
import type { Interpolation } from "../config/types";
import { writeFileAtomic } from "../util/atomic";
import type { ExplainKind } from "./explain-order";
import { esc, FONT, overlayPair, paste, type Blend } from "./heat-overlay";

const TILE = 224;
const HEADER = 62;
const FOOTER = 22;
const GRID_COLUMNS = 4;

/** One Grad-CAM panel: the image, its map, and what the model said about it. */
export interface Panel {
  abs: string;
  map: Float32Array;
  mapSize: [number, number];
  kind: ExplainKind;
  truth: string;
  predicted: string;
  /** The line under the classes, e.g. "P(Tuberculosis) = 0.12, threshold 0.35". */
  probability: string;
  layer: string;
  /** With head.depths: how many layers below the explained one the head also reads, which the map does not show. */
  alsoReads?: number;
  /** The class the heat map is the evidence for. */
  explained: string;
}

/** `s` cut to `max` characters with an ellipsis, so a long class name stays inside its tile. */
const clip = (s: string, max: number): string => (s.length > max ? `${s.slice(0, max - 1)}…` : s);

const KIND: Record<ExplainKind, { text: string; colour: string }> = {
  false_negative: { text: "FALSE NEGATIVE", colour: "#c00000" },
  false_positive: { text: "FALSE POSITIVE", colour: "#d06000" },
  error: { text: "ERROR", colour: "#c00000" },
  correct: { text: "CORRECT", colour: "#107010" },
};

/**
 * The heat colour covers the image where the map is high and fades out where it is low, so the
 * anatomy stays readable under the regions that did not count.
 */
const FADE: Blend = (v) => 0.15 + 0.55 * Math.min(1, Math.max(0, v));

/** One panel as PNG bytes: a header (kind, truth, prediction, probability), the image and its overlay side by side, a caption. */
export async function panelPng(p: Panel, interpolation: Interpolation): Promise<Buffer> {
  const width = 2 * TILE, height = HEADER + TILE + FOOTER;
  const canvas = Buffer.alloc(width * height * 3, 255);
  paste(canvas, width, await overlayPair(p.abs, p.map, p.mapSize, interpolation, TILE, FADE), width, TILE, 0, HEADER);
  const kind = KIND[p.kind];
  const caption = (x: number, text: string): string => `<text x="${x}" y="${HEADER + TILE + 16}" ${FONT} font-size="11" fill="#444" text-anchor="middle">${esc(text)}</text>`;
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">
<text x="6" y="18" ${FONT} font-size="15" font-weight="bold" fill="${kind.colour}">${kind.text}</text>
<text x="${width - 6}" y="16" ${FONT} font-size="11" fill="#444" text-anchor="end">${esc(`${p.layer} (${p.mapSize.join("x")})${p.alsoReads ? ` · head also reads ${p.alsoReads} layers below` : ""}`)}</text>
<text x="6" y="37" ${FONT} font-size="13">true:<tspan dx="4" font-weight="bold">${esc(clip(p.truth, 24))}</tspan><tspan dx="16">predicted:</tspan><tspan dx="4" font-weight="bold">${esc(clip(p.predicted, 24))}</tspan></text>
<text x="6" y="55" ${FONT} font-size="13">${esc(clip(p.probability, 60))}</text>
${caption(TILE / 2, "image")}${caption(TILE * 1.5, clip(`Grad-CAM: evidence for ${p.explained}`, 36))}
</svg>`;
  return sharp(canvas, { raw: { width, height, channels: 3 } }).composite([{ input: Buffer.from(svg) }]).png().toBuffer();
}

/** Every panel side by side, GRID_COLUMNS to a row with a thin gap, as one PNG. */
export async function gridPng(panels: Buffer[]): Promise<Buffer> {
  const gap = 8, pw = 2 * TILE, ph = HEADER + TILE + FOOTER;
  const cols = Math.min(GRID_COLUMNS, panels.length), rows = Math.ceil(panels.length / cols);
  const canvas = sharp({ create: { width: cols * pw + (cols - 1) * gap, height: rows * ph + (rows - 1) * gap, channels: 3, background: "#d8d8d8" } });
  return canvas.composite(panels.map((input, i) => ({ input, left: (i % cols) * (pw + gap), top: Math.floor(i / cols) * (ph + gap) }))).png().toBuffer();
}

/**
 * Write `plots/explain_<i>.png` for each panel, and `plots/explain_grid.png` with all of them,
 * under `out`. Returns the panels' paths relative to `out`, in order.
 */
export async function writePanels(out: string, panels: Panel[], interpolation: Interpolation): Promise<string[]> {
  const files: string[] = [];
  const pngs: Buffer[] = [];
  for (const [i, p] of panels.entries()) {
    const png = await panelPng(p, interpolation);
    const file = `plots/explain_${i}.png`;
    writeFileAtomic(join(out, file), png);
    files.push(file);
    pngs.push(png);
  }
  if (pngs.length) writeFileAtomic(join(out, EXPLAIN_GRID), await gridPng(pngs));
  return files;
}

/** The figure with every panel, relative to the output folder. */
export const EXPLAIN_GRID = "plots/explain_grid.png";
