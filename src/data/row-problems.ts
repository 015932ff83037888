import type { Problem } from "../errors";

/** What can be wrong with one row of a labels file, in the order they are reported. */
export const ROW_KINDS = ["missing", "outside", "empty-path", "empty-label", "split", "two-labels", "duplicate"] as const;
export type RowKind = (typeof ROW_KINDS)[number];

export interface RowProblem {
  kind: RowKind;
  line: number;
  message: string;
}

/** Rows shown per kind; the rest are counted, since a wrong `dir` makes every row fail alike. */
export const SHOWN_PER_KIND = 5;

/**
 * Located problems for `labels.csv:812: ...`, grouped by kind: the first five of each kind, then
 * one line with how many more, then the kind's hint once.
 */
export function rowProblems(file: string, rows: RowProblem[], hints: Record<RowKind, string>): Problem[] {
  const out: Problem[] = [];
  for (const kind of ROW_KINDS) {
    const of = rows.filter((r) => r.kind === kind).sort((a, b) => a.line - b.line);
    if (!of.length) continue;
    const shown: Problem[] = of.slice(0, SHOWN_PER_KIND).map((r) => ({ location: { file, line: r.line, col: 1 }, message: r.message }));
    const more = of.length - shown.length;
    if (more > 0) shown.push({ message: `and ${more} more of this kind in ${file} (${of.length} rows in all)` });
    shown[shown.length - 1] = { ...shown[shown.length - 1]!, hint: hints[kind] };
    out.push(...shown);
  }
  return out;
}
