import { readdirSync } from "node:fs";
import { isAbsolute, join, posix } from "node:path";
import type { LabelColumns, MissingFilePolicy } from "../config/types";
import { didYouMean, type Problem, type SourceLocation } from "../errors";
import { readLabelsFile, type LabelsTable } from "./labels-file";
import { parsePathTemplate } from "./path-template";
import { rowProblems, type RowKind, type RowProblem } from "./row-problems";
import { EXCLUDED, SPLIT_DIRS, cmp, type ScanItem, type ScanResult } from "./scan";

/** Everything a labels table scan needs, resolved: absolute paths, and where config keys sit in the YAML. */
export interface TableSpec {
  /** data.dir: the folder every path in the table is relative to. */
  dir: string;
  /** data.labels, absolute. */
  file: string;
  /** How messages name the labels file (relative to the working directory). */
  shown: string;
  columns: LabelColumns;
  onMissing: MissingFilePolicy;
  excludeClasses: readonly string[];
  /** The YAML position of a config key such as "data.columns.label". */
  locate(path: string): SourceLocation | undefined;
}

export interface TableScan {
  /** Empty when `problems` are about the columns (no row could be read). */
  scan: ScanResult;
  /** The distinct labels of the table before exclude_classes, sorted: what class names are checked against. */
  labels: string[];
  /** Columns that name nothing, then bad rows (grouped and counted); none means the scan is usable. */
  problems: Problem[];
}

/** Where each value of a row comes from: column indexes, and the path built from them. */
interface Reader {
  path(row: string[]): string;
  /** The column(s) the path comes from, for messages. */
  pathColumns: string;
  label: number;
  split: number | undefined;
  /** Indexes of the columns kept on each item (all but the path, label and split columns). */
  kept: number[];
}

/**
 * A labels table as a scan: one item per row, the label column's distinct values as classes
 * (sorted as class folders are), the split column's value as each item's split when named, and
 * every other column kept on the item. Every row is checked: a file that is not there (or
 * skipped, with `on_missing: skip`), an empty label or path, a path outside `dir`, an unknown
 * split, a file listed twice. Whether files exist is read from one listing per folder, not one
 * stat per row, so 100k rows take a fraction of a second.
 */
export function scanTable(spec: TableSpec): TableScan {
  const table = readLabelsFile(spec.file, spec.shown);
  const empty: ScanResult = { layout: "table", classes: [], items: [], skipped: [] };
  const reader = columnReader(spec, table);
  if ("problems" in reader) return { scan: empty, labels: [], problems: reader.problems };

  const rows: RowProblem[] = [];
  const bad = (kind: RowKind, line: number, message: string): false => (rows.push({ kind, line, message }), false);
  const firstLine = new Map<string, { line: number; label: string }>();
  const items: ScanItem[] = [];
  const skipped: ScanResult["skipped"] = [];
  const labels = new Set<string>();
  const listing = folderListing(spec.dir);
  table.rows.forEach((row, i) => {
    const line = table.lines[i]!;
    const label = (row[reader.label] ?? "").trim();
    const raw = reader.path(row);
    const rel = normalize(raw);
    let ok = true;
    if (!raw) ok = bad("empty-path", line, `empty path (column ${reader.pathColumns})`);
    else if (rel === undefined) ok = bad("outside", line, `path '${raw}' leads outside data.dir`);
    if (!label) ok = bad("empty-label", line, `empty label (column ${table.header[reader.label]})`);
    else labels.add(label);
    const splitRead = reader.split === undefined ? undefined : splitOf(row[reader.split] ?? "");
    if (splitRead && "error" in splitRead) ok = bad("split", line, splitRead.error);
    const split = splitRead && "split" in splitRead ? splitRead : undefined;
    if (!ok || rel === undefined) return;
    const first = firstLine.get(rel);
    if (first) {
      if (first.label === label) bad("duplicate", line, `${rel} is listed twice, here and on line ${first.line}, both '${label}': a duplicate row`);
      else bad("two-labels", line, `${rel} is listed twice with two labels: '${label}' here, '${first.label}' on line ${first.line}`);
      return;
    }
    firstLine.set(rel, { line, label });
    // An excluded class is left out before its files are looked for: they need not be there.
    if (spec.excludeClasses.includes(label)) return void skipped.push({ rel, reason: EXCLUDED });
    if (!listing.has(rel)) {
      if (spec.onMissing === "error") bad("missing", line, `file ${rel} not found`);
      else skipped.push({ rel, reason: `not found (${spec.shown}:${line}; data.on_missing: skip)` });
      return;
    }
    const columns = Object.fromEntries(reader.kept.map((k) => [table.header[k]!, row[k] ?? ""]));
    items.push({ rel, abs: join(spec.dir, rel), label, ...(split ? { split: split.split } : {}), ...(reader.kept.length ? { columns } : {}) });
  });
  const classes = [...new Set(items.map((i) => i.label))].sort(cmp);
  items.sort((a, b) => cmp(a.rel, b.rel));
  skipped.sort((a, b) => cmp(a.rel, b.rel));
  return { scan: { layout: "table", classes, items, skipped }, labels: [...labels].sort(cmp), problems: rowProblems(spec.shown, rows, hints(spec)) };
}

/** The columns named in `data.columns`, found in the header; or why they cannot be. */
function columnReader(spec: TableSpec, table: LabelsTable): Reader | { problems: Problem[] } {
  const { columns: c, shown } = spec;
  const problems: Problem[] = [];
  const index = (name: string, key: string): number => {
    const i = table.header.indexOf(name);
    if (i < 0) {
      const hint = [`the columns of ${shown} are ${table.header.join(", ")}`, didYouMean(name, table.header)].filter(Boolean).join("; ");
      problems.push({ location: spec.locate(`data.columns.${key}`), message: `data.columns.${key} names '${name}', which is not a column of ${shown}`, hint });
    }
    return i;
  };
  if (!c.path === !c.path_template)
    problems.push({ location: spec.locate("data.columns"), message: `data.columns needs ${c.path ? "either path or path_template, not both" : "path or path_template: where each row's image is"}`, hint: "write path: <column holding a path relative to data.dir>, or path_template: \"{image_id}.jpg\"" });
  let path: Reader["path"] = () => "";
  let pathColumns = "";
  let used: number[] = [];
  if (c.path && !c.path_template) {
    const p = index(c.path, "path");
    path = (row) => (row[p] ?? "").trim();
    pathColumns = c.path;
    used = [p];
  } else if (c.path_template && !c.path) {
    const t = parsePathTemplate(c.path_template);
    if ("error" in t) problems.push({ location: spec.locate("data.columns.path_template"), message: `data.columns.path_template '${c.path_template}': ${t.error}` });
    else {
      const at = new Map(t.fields.map((f) => [f, index(f, "path_template")]));
      // An empty value would make a path like ".jpg": report the row as having no path instead.
      path = (row) => {
        const values = t.fields.map((f) => (row[at.get(f)!] ?? "").trim());
        return values.some((v) => !v) ? "" : t.render((f) => values[t.fields.indexOf(f)]!);
      };
      pathColumns = t.fields.join(", ");
    }
  }
  const label = c.label ? index(c.label, "label") : -1;
  if (!c.label) problems.push({ location: spec.locate("data.columns"), message: "data.columns.label is not set: which column holds each image's class", hint: "write label: <column>, e.g. label: dx" });
  const split = c.split ? index(c.split, "split") : undefined;
  if (problems.length) return { problems };
  const notKept = new Set([...used, label, ...(split === undefined ? [] : [split])]);
  return { path, pathColumns, label, split, kept: table.header.map((_, k) => k).filter((k) => !notKept.has(k)) };
}

/** Most paths need no normalizing: no backslash, no "." or ".." segment, no leading or doubled "/", no drive letter. */
const PLAIN_PATH = /^(?![./])(?!.*(?:\\|\/\/|\/\.\.?(?:\/|$)|:))[^]+$/;

/** A relative path with "/" between folders, or undefined when it is absolute or climbs out of the data folder. */
function normalize(raw: string): string | undefined {
  if (PLAIN_PATH.test(raw)) return raw;
  if (!raw || isAbsolute(raw) || /^[a-zA-Z]:[\\/]/.test(raw)) return undefined;
  const rel = posix.normalize(raw.replace(/\\/g, "/"));
  return rel === ".." || rel.startsWith("../") || rel.startsWith("/") ? undefined : rel.replace(/^\.\//, "");
}

function splitOf(value: string): { split: NonNullable<ScanItem["split"]> } | { error: string } {
  const v = value.trim().toLowerCase();
  const split = SPLIT_DIRS[v];
  if (split) return { split };
  const known = Object.keys(SPLIT_DIRS);
  return { error: v ? `split '${value.trim()}' is not one of ${known.join(", ")}${didYouMean(v, known) ? `; ${didYouMean(v, known)}` : ""}` : "empty split" };
}

/**
 * The files of every folder the table points into, read once each (a Set of paths relative to
 * data.dir, lazily per folder), which is far cheaper than a stat per row on a cold disk.
 */
function folderListing(dir: string): { has(rel: string): boolean } {
  const folders = new Map<string, Set<string>>();
  return {
    has(rel) {
      const folder = posix.dirname(rel);
      let names = folders.get(folder);
      if (!names) {
        try {
          names = new Set(readdirSync(join(dir, folder), { withFileTypes: true }).filter((e) => !e.isDirectory()).map((e) => e.name));
        } catch {
          names = new Set(); // no such folder: every file in it is missing
        }
        folders.set(folder, names);
      }
      return names.has(posix.basename(rel));
    },
  };
}

function hints(spec: TableSpec): Record<RowKind, string> {
  const where = spec.columns.path_template ? `data.columns.path_template ('${spec.columns.path_template}')` : `data.columns.path ('${spec.columns.path}')`;
  return {
    missing: `paths are relative to data.dir (${spec.dir}); check data.dir and ${where}, or set data.on_missing: skip to leave these rows out`,
    outside: "write paths relative to data.dir, without '..'",
    "empty-path": `every row needs a value in ${where}`,
    "empty-label": "give every row a label, or remove the row",
    split: "write train, val (or validation) or test in every row, or remove data.columns.split for a seeded split",
    "two-labels": "keep the row with the right label and remove the other",
    duplicate: "remove one of the two rows",
  };
}
