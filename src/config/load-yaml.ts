import { readFileSync } from "node:fs";
import { Document, LineCounter, YAMLError, isAlias, isCollection, isMap, isScalar, isSeq, parseDocument, visit } from "yaml";
import type { Alias } from "yaml";
import type { Problem, SourceLocation } from "../errors";

/** Finds the YAML position for a dotted config path; `atKey` points at the key instead of the value. */
export type Where = (path: string, atKey?: boolean) => SourceLocation | undefined;

/** A parsed YAML document plus what is needed to turn offsets into line:col. */
export interface YamlSource {
  file: string;
  doc: Document;
  lines: LineCounter;
}

/** Limit on alias expansion in toJS; a config never needs more, an alias bomb always does. */
const MAX_ALIASES = 100;
const PLAIN_TAGS = new Set(["str", "int", "float", "bool", "null", "map", "seq"].map((t) => `tag:yaml.org,2002:${t}`));

const HINTS: Record<string, string> = {
  TAB_AS_INDENT: "indent with spaces; YAML does not allow tabs for indentation",
  DUPLICATE_KEY: "each key may appear only once in a mapping; remove or merge the repeated one",
  BAD_INDENT: "check this line's indentation against the lines above it",
  MULTIPLE_DOCS: "a pipeline file holds one document; remove the second '---' and what follows, or use two files",
  BLOCK_AS_IMPLICIT_KEY: "put a nested mapping on its own indented lines, or quote a value that contains ': '",
};

/** Reads and parses a YAML file. Never throws for bad input; every issue comes back as a located Problem. */
export function readYaml(file: string, display = file): { source?: YamlSource; problems: Problem[] } {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "no such file" : code === "EISDIR" ? "it is a folder" : String(code ?? e);
    return { problems: [{ message: `cannot read config file '${display}': ${why}`, hint: "pass the path of a pipeline YAML file" }] };
  }
  return parseYaml(text, display);
}

/** Parses YAML text and rejects everything a pipeline file must not contain. */
export function parseYaml(text: string, file: string, colOffset = 0): { source?: YamlSource; problems: Problem[] } {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const source: YamlSource = { file, doc, lines };
  const at = (offset: number) => position(source, offset, colOffset);
  const problems: Problem[] = [...doc.errors, ...doc.warnings.filter((w) => w.code !== "TAG_RESOLVE_FAILED")].map(
    (e: YAMLError) => ({ location: at(e.pos[0]), ...describeYamlError(e, text), hint: HINTS[e.code] }),
  );
  visit(doc, {
    Node(_, node) {
      if (node.tag && !PLAIN_TAGS.has(node.tag)) {
        const tag = node.tag.replace("tag:yaml.org,2002:", "!!");
        const start = node.range?.[0] ?? 0;
        const written = text.lastIndexOf(tag, start);
        problems.push({ location: at(written >= 0 ? written : start), message: `unsupported tag '${tag}'`, hint: "remove the tag; pipeline files hold plain values only" });
      }
    },
  });
  return { source, problems: dedupe(problems) };
}

/** Checks the top level is a non-empty mapping. */
export function checkTopLevel(source: YamlSource): Problem[] {
  const root = source.doc.contents;
  const location = { file: source.file, line: 1, col: 1 };
  if (root === null || (isScalar(root) && root.value === null)) {
    return [{ location, message: "the config file is empty", hint: "start with 'name: my-pipeline' and 'data: {dir: path/to/images}'" }];
  }
  if (isMap(root)) return [];
  const found = isSeq(root) ? "a list" : "a single value";
  return [{ location: position(source, root.range?.[0] ?? 0), message: `the top level must be a mapping of keys (name:, data:, ...), found ${found}`, hint: "write keys at the top level, e.g. 'name: my-pipeline'" }];
}

/** Converts the document to plain data, refusing alias bombs and unresolved aliases. */
export function toData(source: YamlSource): { data?: unknown; problems: Problem[] } {
  try {
    return { data: source.doc.toJS({ maxAliasCount: MAX_ALIASES }), problems: [] };
  } catch (e) {
    if (!(e instanceof ReferenceError)) throw e;
    const aliases: Alias[] = [];
    visit(source.doc, { Alias: (_, n) => void aliases.push(n) });
    const missing = aliases.find((n) => !n.resolve(source.doc));
    const location = position(source, (missing ?? aliases[0])?.range?.[0] ?? 0);
    if (!missing) {
      const message = `aliases expand to too many values (limit ${MAX_ALIASES}); this looks like an alias bomb`;
      return { problems: [{ location, message, hint: "write the values out instead of nesting aliases" }] };
    }
    const hint = `define the anchor '&${missing.source}' before this alias, or write the value out`;
    return { problems: [{ location, message: `unknown alias '*${missing.source}'`, hint }] };
  }
}

/**
 * Line and column of the value at `path`, falling back to the nearest existing ancestor. Points at
 * the key instead when `atKey` is set, the value is empty, or it is a mapping or list.
 */
export function locateNode(source: YamlSource, path: string[], atKey = false, colOffset = 0): SourceLocation | undefined {
  let node: unknown = source.doc.contents;
  let best = rangeStart(node);
  for (let i = 0; i < path.length && !isAlias(node); i++) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === path[i]);
      if (!pair) break;
      const value = pair.value;
      const missing = value === null || (isScalar(value) && value.value === null && !value.source) || rangeStart(value) === undefined;
      const atTheKey = missing || isCollection(value) || (atKey && i === path.length - 1);
      best = atTheKey ? rangeStart(pair.key) ?? best : rangeStart(value);
      if (missing) break;
      node = value;
    } else if (isSeq(node) && node.items[Number(path[i])] !== undefined) {
      node = node.items[Number(path[i])];
      best = rangeStart(node) ?? best;
    } else break;
  }
  return best === undefined ? undefined : position(source, best, colOffset);
}

function rangeStart(node: unknown): number | undefined {
  return (node as { range?: [number, number, number] } | null)?.range?.[0];
}

function position(source: YamlSource, offset: number, colOffset = 0): SourceLocation {
  const { line, col } = source.lines.linePos(offset);
  return { file: source.file, line, col: line === 1 ? col + colOffset : col };
}

function describeYamlError(e: YAMLError, text: string): { message: string } {
  if (e.code === "DUPLICATE_KEY") return { message: `duplicate key '${/^[^:#\n,{}[\]]*/.exec(text.slice(e.pos[0]))![0].trim()}'` };
  if (e.code === "TAB_AS_INDENT") return { message: "tab character used for indentation" };
  if (e.code === "MULTIPLE_DOCS") return { message: "the file holds more than one YAML document ('---')" };
  const first = e.message.split("\n")[0]!.replace(/ at line \d+, column \d+.*$/, "");
  return { message: `invalid YAML: ${first.charAt(0).toLowerCase()}${first.slice(1)}` };
}

function dedupe(problems: Problem[]): Problem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const k = `${p.location?.line}:${p.location?.col}:${p.message}`;
    return seen.has(k) ? false : (seen.add(k), true);
  });
}
