import { Document, isMap, isScalar, isSeq, Scalar, visit } from "yaml";
import type { Problem } from "../errors";
import { locateNode, parseYaml, type Where, type YamlSource } from "./load-yaml";

/** One applied `--set path=value`; its value keeps positions relative to the argument. */
export interface Override {
  arg: string;
  path: string[];
  value: YamlSource;
  /** Columns before the value inside `arg`. */
  colOffset: number;
}

const PATH = /^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*$/;

/**
 * The segments of a config path: `a.b.0`, where a segment in brackets may hold dots, as the
 * keys of `sweep.parameters` do (`sweep.parameters.[head.dropout].min`).
 */
export function splitPath(path: string): string[] {
  return path === "" ? [] : (path.match(/\[[^\]]*\]|[^.]+/g) ?? []).map((s) => (s.startsWith("[") ? s.slice(1, -1) : s));
}

/** The inverse of splitPath: segments joined with dots, bracketing those that hold one. */
export function joinPath(segs: readonly string[]): string {
  return segs.map((s) => (s.includes(".") ? `[${s}]` : s)).join(".");
}

/**
 * Pseudo-file name for problems in a `--set` argument, e.g. `--set head.dropout=high:1:14`;
 * the column counts within the argument itself.
 */
export function overrideLabel(arg: string): string {
  return `--set ${arg}`;
}

/**
 * Applies repeatable `--set path=value` arguments to the parsed document, in order. The value is
 * parsed as YAML (`0.3`, `[{units: 64}]`, `null`), so the result is validated like the file.
 */
export function applyOverrides(doc: Document, sets: string[]): { applied: Override[]; problems: Problem[] } {
  const applied: Override[] = [];
  const problems: Problem[] = [];
  for (const arg of sets) {
    const parsed = parseOverride(arg);
    const problem = Array.isArray(parsed) ? undefined : prepareParents(doc, parsed);
    if (Array.isArray(parsed)) problems.push(...parsed);
    else if (problem) problems.push(problem);
    else {
      doc.setIn(parsed.path, parsed.value.doc.contents ?? new Scalar(null));
      applied.push(parsed);
    }
  }
  return { applied, problems };
}

/** Splits `path=value` and parses the value as a YAML scalar or flow collection. */
function parseOverride(arg: string): Override | Problem[] {
  const file = overrideLabel(arg);
  const eq = arg.indexOf("=");
  const path = arg.slice(0, Math.max(eq, 0));
  if (eq < 0 || !PATH.test(path)) {
    const found = eq < 0 ? "no '='" : `path '${path}'`;
    return [{ location: { file, line: 1, col: 1 }, message: `--set expects path=value with a dotted key path, found ${found}`, hint: "e.g. --set head.dropout=0.3 or --set train.fine_tune=null" }];
  }
  const { source, problems } = parseYaml(arg.slice(eq + 1), file, eq + 1);
  if (problems.length) return problems;
  if (hasAlias(source!)) {
    return [{ location: { file, line: 1, col: eq + 2 }, message: "aliases (*name) cannot be used in --set values", hint: "write the value out" }];
  }
  return { arg, path: path.split("."), value: source!, colOffset: eq + 1 };
}

/** Checks every parent on the path can hold a key; an empty (null) parent becomes a mapping. */
function prepareParents(doc: Document, o: Override): Problem | undefined {
  for (let i = 0; i < o.path.length; i++) {
    const parentPath = o.path.slice(0, i);
    const parent = i === 0 ? doc.contents : doc.getIn(parentPath, true);
    const key = o.path[i]!;
    if (parent === undefined || isMap(parent)) continue;
    const where = parentPath.join(".") || "the top level";
    const location = { file: overrideLabel(o.arg), line: 1, col: 1 };
    if (isSeq(parent)) {
      const n = Number(key);
      if (Number.isInteger(n) && n >= 0 && n <= parent.items.length) continue;
      return { location, message: `cannot set '${key}' in ${where}: it is a list of ${parent.items.length} item(s)`, hint: `use an index from 0 to ${parent.items.length}, e.g. --set ${where}.0.${o.path.slice(i + 1).join(".") || "..."}=...` };
    }
    if (i > 0 && isScalar(parent) && parent.value === null) {
      doc.setIn(parentPath, doc.createNode({}));
      continue;
    }
    const kind = isScalar(parent) ? `${typeof parent.value} ${JSON.stringify(parent.value)}` : "not a mapping";
    return { location, message: `cannot set '${key}' inside ${where}, which is ${kind}`, hint: `replace the whole value instead, e.g. --set ${where}={${key}: ...}` };
  }
  return undefined;
}

/** A `Where` that points into the file, or into the `--set` argument that last replaced a path. */
export function whereWithOverrides(source: YamlSource, applied: Override[]): Where {
  return (path, atKey = false) => {
    const segs = splitPath(path);
    for (const o of [...applied].reverse()) {
      if (o.path.length > segs.length || o.path.some((s, i) => s !== segs[i])) continue;
      const file = overrideLabel(o.arg);
      if (atKey && segs.length === o.path.length) return { file, line: 1, col: 1 };
      return locateNode(o.value, segs.slice(o.path.length), atKey, o.colOffset) ?? { file, line: 1, col: 1 + o.colOffset };
    }
    const created = applied.find((o) => segs.every((s, i) => s === o.path[i]) && isCreated(source, segs));
    return created ? { file: overrideLabel(created.arg), line: 1, col: 1 } : locateNode(source, segs, atKey);
  };
}

/** True when the node at `path` was made by an override (it has no position in the file). */
function isCreated(source: YamlSource, path: string[]): boolean {
  const node = source.doc.getIn(path, true) as { range?: unknown } | undefined;
  return path.length > 0 && node !== undefined && node !== null && !node.range;
}

function hasAlias(source: YamlSource): boolean {
  let found = false;
  visit(source.doc, { Alias: () => { found = true; return visit.BREAK; } });
  return found;
}
