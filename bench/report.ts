/** The printed table. */
import type { Row } from "./context";

const fmt = (v: number | undefined, unit = ""): string => {
  if (v === undefined || Number.isNaN(v)) return "";
  const s = Math.abs(v) > 0 && Math.abs(v) < 0.01 ? v.toExponential(1) : v >= 100 ? v.toFixed(0) : v.toFixed(2);
  return unit ? `${s} ${unit}` : s;
};

export function table(rows: Row[]): string {
  const head = ["section", "metric", "tlrun", "reference", "ratio", "target", ""];
  const body = rows.map((r) => [
    r.section, r.metric, fmt(r.tlrun, r.unit), r.reference === undefined ? "" : `${fmt(r.reference, r.unit)} (${r.refName})`,
    r.ratio === undefined ? "" : `${fmt(r.ratio)}x`, r.target ?? "", r.pass === undefined ? "" : r.pass ? "ok" : "MISS",
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i]!)).join(" | ").trimEnd();
  const notes = rows.filter((r) => r.note).map((r) => `  - ${r.metric}: ${r.note}`);
  return [line(head), widths.map((w) => "-".repeat(w)).join("-|-"), ...body.map(line), "", "notes:", ...notes].join("\n");
}
