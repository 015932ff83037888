import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import sharp from "sharp";
import { writeFileAtomic } from "../util/atomic";
import { flowValue, type Assignment } from "./space";
import type { TrialResult, TrialStatus } from "./trial";

/** One trial as the sweep remembers it; `pending` and `running` trials are re-run on resume. */
export interface TrialState {
  index: number;
  assignment: Assignment;
  status: "pending" | "running" | TrialStatus;
  run_id?: string;
  value?: number | null;
  metrics?: Record<string, number | null>;
  epochs?: number;
  seconds?: number;
  error?: string;
  /** ASHA rung → metric value, so a resumed sweep prunes with the same history. */
  rungs: Record<string, number>;
}

/** runs/<sweep-id>/sweep.json: what a resume needs. Rewritten atomically after every change. */
export interface SweepState {
  version: 1;
  sweep_id: string;
  file: string;
  overrides: string[];
  /** sha256 of the resolved config, sweep block included: a resume refuses a changed file. */
  fingerprint: string;
  method: string;
  metric: string;
  maximize: boolean;
  planned: number;
  status: "running" | "completed" | "interrupted" | "failed";
  /** How many times the sweep was resumed; queue job ids include it. */
  resumes: number;
  trials: TrialState[];
}

export const STATE_FILE = "sweep.json";

export function saveState(dir: string, state: SweepState): void {
  writeFileAtomic(join(dir, STATE_FILE), JSON.stringify(state, null, 2));
}

export function loadState(dir: string): SweepState {
  return JSON.parse(readFileSync(join(dir, STATE_FILE), "utf8")) as SweepState;
}

/** The newest unfinished sweep of this pipeline file under runs/, if any. */
export function findUnfinished(runsDir: string, file: string): string | undefined {
  if (!existsSync(runsDir)) return undefined;
  const dirs = readdirSync(runsDir).sort().reverse().map((n) => join(runsDir, n));
  return dirs.find((d) => {
    if (!existsSync(join(d, STATE_FILE))) return false;
    try {
      const s = loadState(d);
      return s.file === file && s.status !== "completed";
    } catch {
      return false;
    }
  });
}

export function applyResult(t: TrialState, r: TrialResult): void {
  Object.assign(t, { status: r.status, run_id: r.runId, value: r.value, metrics: r.metrics, epochs: r.epochs, seconds: +r.seconds.toFixed(2) });
  if (r.error) t.error = r.error;
  else delete t.error;
}

/** The best finished trial: completed ones first, by the metric in the sweep's direction. */
export function bestTrial(state: SweepState): TrialState | undefined {
  const done = state.trials.filter((t) => t.status === "completed" && typeof t.value === "number");
  const better = (a: number, b: number): boolean => (state.maximize ? a > b : a < b);
  return done.reduce<TrialState | undefined>((best, t) => (!best || better(t.value!, best.value!) ? t : best), undefined);
}

const csvCell = (v: unknown): string => {
  const s = v === undefined || v === null ? "" : typeof v === "string" ? v : flowValue(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

/** trials × params × metrics, one row per trial. */
export function trialsCsv(state: SweepState): string {
  const params = [...new Set(state.trials.flatMap((t) => Object.keys(t.assignment)))];
  const metricKeys = [...new Set(state.trials.flatMap((t) => Object.keys(t.metrics ?? {})))].sort();
  const header = ["trial", "status", ...params, state.metric, ...metricKeys.filter((k) => k !== state.metric), "epochs", "seconds", "run_id"];
  const rows = state.trials.map((t) => [
    t.index, t.status, ...params.map((p) => t.assignment[p]), t.value, ...metricKeys.filter((k) => k !== state.metric).map((k) => t.metrics?.[k]), t.epochs, t.seconds, t.run_id,
  ]);
  return [header, ...rows].map((r) => r.map(csvCell).join(",")).join("\n") + "\n";
}

const esc = (s: string): string => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
const FONT = `font-family="DejaVu Sans, Arial, sans-serif"`;

/**
 * Parallel coordinates: one vertical axis per parameter and one for the metric, one line per
 * trial coloured from red (worst) to blue (best); pruned trials dashed, the best one thick.
 */
export function parallelCoordinatesSvg(state: SweepState): string {
  const params = [...new Set(state.trials.flatMap((t) => Object.keys(t.assignment)))];
  const trials = state.trials.filter((t) => typeof t.value === "number");
  const axes = [...params, state.metric];
  const w = Math.max(640, 150 * axes.length + 80), h = 460, top = 70, bottom = h - 60, left = 70;
  const step = axes.length > 1 ? (w - 2 * left) / (axes.length - 1) : 0;
  const scales = axes.map((axis, i) => {
    const raw = trials.map((t) => (i === axes.length - 1 ? t.value : t.assignment[axis]));
    const numeric = raw.every((v) => typeof v === "number");
    if (numeric) {
      const nums = raw as number[];
      const [lo, hi] = [Math.min(...nums), Math.max(...nums)];
      const log = lo > 0 && hi / lo > 50;
      const f = (v: number): number => (hi === lo ? 0.5 : log ? (Math.log(v) - Math.log(lo)) / (Math.log(hi) - Math.log(lo)) : (v - lo) / (hi - lo));
      return { pos: (v: unknown) => f(Number(v)), ticks: [[0, lo], [1, hi]] as Array<[number, unknown]> };
    }
    const cats = [...new Set(raw.map((v) => flowValue(v)))];
    return { pos: (v: unknown) => (cats.length > 1 ? cats.indexOf(flowValue(v)) / (cats.length - 1) : 0.5), ticks: cats.map((c, k) => [cats.length > 1 ? k / (cats.length - 1) : 0.5, c] as [number, unknown]) };
  });
  const y = (u: number): number => bottom - u * (bottom - top);
  const values = trials.map((t) => t.value!);
  const [vlo, vhi] = [Math.min(...values), Math.max(...values)];
  const best = bestTrial(state);
  const parts: string[] = [`<rect width="${w}" height="${h}" fill="white"/>`, `<text x="${w / 2}" y="28" ${FONT} font-size="18" text-anchor="middle">${esc(`Sweep: ${trials.length} trials by ${state.metric} (${state.maximize ? "higher" : "lower"} is better)`)}</text>`];
  for (const t of [...trials].sort((a, b) => (state.maximize ? a.value! - b.value! : b.value! - a.value!))) {
    const good = vhi === vlo ? 1 : state.maximize ? (t.value! - vlo) / (vhi - vlo) : (vhi - t.value!) / (vhi - vlo);
    const color = `rgb(${Math.round(220 * (1 - good))},${Math.round(80 + 40 * good)},${Math.round(220 * good)})`;
    const pts = axes.map((axis, i) => `${left + i * step},${y(scales[i]!.pos(i === axes.length - 1 ? t.value : t.assignment[axis]))}`).join(" ");
    const isBest = best && t.index === best.index;
    parts.push(`<polyline points="${pts}" fill="none" stroke="${color}" stroke-width="${isBest ? 4 : 1.5}" opacity="${isBest ? 1 : 0.75}"${t.status === "pruned" ? ` stroke-dasharray="5,4"` : ""}/>`);
  }
  axes.forEach((axis, i) => {
    const x = left + i * step;
    parts.push(`<line x1="${x}" y1="${top}" x2="${x}" y2="${bottom}" stroke="#333"/>`);
    parts.push(`<text x="${x}" y="${bottom + 30}" ${FONT} font-size="13" text-anchor="middle">${esc(axis)}</text>`);
    for (const [u, v] of scales[i]!.ticks) parts.push(`<text x="${x + 6}" y="${y(u) + 4}" ${FONT} font-size="11">${esc(typeof v === "number" ? String(Number(v.toPrecision(4))) : String(v))}</text>`);
  });
  parts.push(`<text x="${w - 10}" y="${h - 10}" ${FONT} font-size="11" text-anchor="end" fill="#555">dashed: pruned by ASHA; thick: best trial</text>`);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}">${parts.join("")}</svg>`;
}

/** Write the comparison artifacts into runs/<sweep-id>/sweep/. */
export async function writeArtifacts(dir: string, state: SweepState): Promise<void> {
  const out = join(dir, "sweep");
  writeFileAtomic(join(out, "trials.csv"), trialsCsv(state));
  const best = bestTrial(state);
  writeFileAtomic(join(out, "best.json"), JSON.stringify(best ? { trial: best.index, params: best.assignment, value: best.value, metric: state.metric, metrics: best.metrics, run_id: best.run_id } : null, null, 2));
  if (state.trials.some((t) => typeof t.value === "number"))
    writeFileAtomic(join(out, "trials.png"), await sharp(Buffer.from(parallelCoordinatesSvg(state))).png().toBuffer());
}
