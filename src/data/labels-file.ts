import { readFileSync, statSync } from "node:fs";
import { extname } from "node:path";
import { parse, type Options } from "csv-parse/sync";
import { ConfigError, type SourceLocation } from "../errors";

/** A labels file read into rows of strings, each with the line a text editor shows it on. */
export interface LabelsTable {
  format: "csv" | "tsv" | "jsonl";
  /** Column names: the CSV/TSV header, or the JSONL keys in order of first appearance. */
  header: string[];
  /** One array per row, aligned with `header`; a JSONL row without a key has "" there. */
  rows: string[][];
  /** 1-based line of each row (the header is line 1 of a CSV). */
  lines: number[];
}

export const LABELS_FORMATS: Record<string, LabelsTable["format"]> = { ".csv": "csv", ".tsv": "tsv", ".jsonl": "jsonl", ".ndjson": "jsonl" };

/**
 * Read a labels table whole. CSV and TSV go through csv-parse (maintained, RFC 4180 quoting,
 * BOM, CRLF); JSONL is one JSON object per line. Synchronous on purpose: `validate` checks every
 * row before any stage runs, and the config checks are synchronous; 100k rows take about 0.2 s.
 * `shown` is the name errors use for the file.
 */
export function readLabelsFile(file: string, shown: string): LabelsTable {
  const stamp = stampOf(file);
  if (last && last.file === file && last.stamp === stamp && last.shown === shown) return last.table;
  const table = readUncached(file, shown);
  last = stamp === undefined ? undefined : { file, shown, stamp, table };
  return table;
}

/**
 * The last table read, while its file keeps its size and mtime: `tlrun plan` and `run` check the
 * table, then count or scan it, in one process. Callers do not modify tables.
 */
let last: { file: string; shown: string; stamp: string; table: LabelsTable } | undefined;

function stampOf(file: string): string | undefined {
  try {
    const st = statSync(file);
    return `${st.size}:${st.mtimeMs}:${st.ino}`;
  } catch {
    return undefined;
  }
}

function readUncached(file: string, shown: string): LabelsTable {
  const format = LABELS_FORMATS[extname(file).toLowerCase()];
  if (!format) throw fileError(shown, 1, `a labels file must end in .csv, .tsv or .jsonl, found '${extname(file) || "no extension"}'`);
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw fileError(shown, 1, `cannot read the labels file ${shown} (${(err as NodeJS.ErrnoException).code ?? "error"})`);
  }
  const table = format === "jsonl" ? readJsonl(text, shown) : readDelimited(text, shown, format);
  if (!table.header.length) throw fileError(shown, 1, `the labels file ${shown} is empty`);
  return table;
}

function readDelimited(text: string, shown: string, format: "csv" | "tsv"): LabelsTable {
  // TSV (IANA) has no quoting: a '"' is part of the value.
  const quoted = format === "csv" && text.includes('"');
  const opts: Options = { bom: true, skip_empty_lines: true, delimiter: format === "csv" ? "," : "\t", ...(format === "tsv" ? { quote: false } : {}) };
  let records: string[][];
  let lines: number[];
  try {
    if (quoted) {
      // A quoted value may span lines, so only the parser knows where a record starts; asking it
      // costs twice the time, which unquoted files are spared.
      const withInfo = parse(text, { ...opts, info: true }) as unknown as Array<{ record: string[]; info: { lines: number } }>;
      records = withInfo.map((r) => r.record);
      lines = withInfo.map((r) => r.info.lines);
    } else {
      records = parse(text, opts) as string[][];
      lines = nonEmptyLines(text);
    }
  } catch (err) {
    const e = err as Error & { lines?: number; code?: string };
    throw fileError(shown, e.lines ?? 1, `not valid ${format.toUpperCase()}: ${e.message.replace(/^Invalid Record Length: /, "")}`);
  }
  const [header = [], ...rows] = records;
  return { format, header: header.map((h) => h.trim()), rows, lines: lines.slice(1) };
}

/** Line numbers of the lines csv-parse turns into records when nothing is quoted: the non-blank ones. */
function nonEmptyLines(text: string): number[] {
  const out: number[] = [];
  let line = 1;
  let start = 0;
  for (let i = 0; i <= text.length; i++) {
    if (i === text.length || text.charCodeAt(i) === 10) {
      const end = i > start && text.charCodeAt(i - 1) === 13 ? i - 1 : i;
      if (end > start && !(line === 1 && end === start + 1 && text.charCodeAt(start) === 0xfeff)) out.push(line);
      line++;
      start = i + 1;
    }
  }
  return out;
}

function readJsonl(text: string, shown: string): LabelsTable {
  const objects: Array<Record<string, unknown>> = [];
  const lines: number[] = [];
  const header: string[] = [];
  const known = new Set<string>();
  text.replace(/^\uFEFF/, "").split("\n").forEach((raw, i) => {
    const line = raw.trim();
    if (!line) return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (err) {
      throw fileError(shown, i + 1, `not valid JSON: ${(err as Error).message}`, "write one JSON object per line, e.g. {\"image_id\": \"ISIC_0027419\", \"dx\": \"bkl\"}");
    }
    if (!value || typeof value !== "object" || Array.isArray(value)) throw fileError(shown, i + 1, `found ${Array.isArray(value) ? "an array" : JSON.stringify(value)}, not a JSON object`);
    for (const k of Object.keys(value)) if (!known.has(k)) known.add(k), header.push(k);
    objects.push(value as Record<string, unknown>);
    lines.push(i + 1);
  });
  const rows = objects.map((o) => header.map((k) => asText(o[k])));
  return { format: "jsonl", header, rows, lines };
}

/** A JSON value as the string a CSV would hold: numbers as written, null and absent as "". */
function asText(v: unknown): string {
  if (v === null || v === undefined) return "";
  return typeof v === "string" ? v : typeof v === "object" ? JSON.stringify(v) : String(v);
}

function fileError(file: string, line: number, message: string, hint?: string): ConfigError {
  const location: SourceLocation = { file, line, col: 1 };
  return new ConfigError([{ location, message, ...(hint ? { hint } : {}) }]);
}
