/**
 * How `tlrun predict` writes a row: CSV (a header, then one line per image), JSON lines, or a
 * readable table for a person looking at a few files. Each row is formatted alone, so rows can
 * be written as batches finish.
 */
import type { BinaryRule } from "./load-run";
import type { Prediction } from "./predict";

export type OutputFormat = "csv" | "json" | "table";

export interface RowFormatter {
  /** The first line(s), before any row (CSV's header; empty otherwise). */
  header(): string;
  row(p: Prediction): string;
}

/** Class name, probability pairs, most probable first. */
export function ranked(classes: readonly string[], probs: Float32Array, k = classes.length): Array<{ class: string; p: number }> {
  return classes.map((c, i) => ({ class: c, p: probs[i]! })).sort((a, b) => b.p - a.p).slice(0, k);
}

/** Six significant digits: enough to compare to 1e-6, short enough to read. */
const num = (p: number): string => String(Number(p.toPrecision(6)));

function csvField(s: string): string {
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function decisionOf(binary: BinaryRule | undefined, probs: Float32Array): string | undefined {
  if (!binary) return undefined;
  return probs[binary.positiveIndex]! >= binary.threshold ? binary.positive : binary.negative;
}

/**
 * A formatter for the run's classes; `topK` adds the K most probable classes to each row. For a
 * binary run `predicted` is the decision at the run's threshold, never the argmax, which would
 * quietly undo the threshold chosen for screening; the threshold sits beside it.
 */
export function rowFormatter(format: OutputFormat, classes: readonly string[], binary: BinaryRule | undefined, topK?: number): RowFormatter {
  const top = (p: Prediction) => ranked(classes, p.probs, topK ?? 1);
  if (format === "csv") {
    const topCols = topK ? Array.from({ length: topK }, (_, i) => [`top${i + 1}`, `p_top${i + 1}`]).flat() : [];
    const cols = ["path", ...classes.map((c) => `p_${c}`), "predicted", ...(binary ? ["threshold"] : []), ...topCols];
    return {
      header: () => cols.map(csvField).join(",") + "\n",
      row: (p) => {
        const t = top(p);
        const fields = [p.path, ...Array.from(p.probs, num), decisionOf(binary, p.probs) ?? t[0]!.class, ...(binary ? [num(binary.threshold)] : [])];
        if (topK) for (const r of t) fields.push(r.class, num(r.p));
        return fields.map(csvField).join(",") + "\n";
      },
    };
  }
  if (format === "json") {
    return {
      header: () => "",
      row: (p) => {
        const t = top(p);
        const probs = Object.fromEntries(classes.map((c, i) => [c, Number(num(p.probs[i]!))]));
        const bin = binary ? { threshold: binary.threshold } : {};
        const k = topK ? { top_k: t.map((r) => ({ class: r.class, p: Number(num(r.p)) })) } : {};
        return JSON.stringify({ path: p.path, probs, predicted: decisionOf(binary, p.probs) ?? t[0]!.class, ...bin, ...k }) + "\n";
      },
    };
  }
  const pct = (p: number): string => `${(100 * p).toFixed(1)}%`;
  return {
    header: () => "",
    row: (p) => {
      const t = ranked(classes, p.probs, topK ?? (binary ? 2 : 3));
      const lead = binary
        ? `${decisionOf(binary, p.probs)}  (P(${binary.positive}) ${pct(p.probs[binary.positiveIndex]!)}, threshold ${binary.threshold.toPrecision(3)})`
        : `${t[0]!.class}  ${pct(t[0]!.p)}`;
      const rest = binary ? "" : `   next: ${t.slice(1).map((r) => `${r.class} ${pct(r.p)}`).join(", ")}`;
      return `${p.path}\n  ${lead}${t.length > 1 ? rest : ""}\n`;
    },
  };
}
