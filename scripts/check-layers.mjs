#!/usr/bin/env node
// Dependencies in src/ point down only: a file may import files of its own layer or of a layer
// below, never above; and no two files import each other, directly or around a loop.
// Usage: node scripts/check-layers.mjs [project root, default: this repository]
// Prints one line per problem and exits 1 when there is any.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import ts from "typescript";

/** Top to bottom. Each entry of `places` is a folder or a file directly under src/. */
export const LAYERS = [
  { layer: 10, places: ["cli", "index.ts"], why: "entry points: parse flags and call one core function" },
  { layer: 9, places: ["sweep"], why: "runs many pipelines, each through tracking and the executor" },
  { layer: 8, places: ["tracking"], why: "observes runs (MLflow) through the executor's observer hooks" },
  { layer: 7, places: ["executor", "deploy"], why: "the only place that runs stages, in plan order; a finished run's model put to use (predict, export)" },
  { layer: 6, places: ["stages", "report"], why: "one file per stage, composed from data, training and models; a run folder drawn as plots and one HTML page" },
  { layer: 5, places: ["plan"], why: "compile a config and resolve it against the cache, data and base: keys, freeze plan, sources; no TensorFlow" },
  { layer: 4, places: ["data", "training", "evaluation", "audit", "runs", "backend"], why: "the working parts a stage calls; may read the config's types" },
  { layer: 3, places: ["config"], why: "load and validate the pipeline YAML; knows what a pipeline says, not how it runs" },
  { layer: 2, places: ["models"], why: "base models, zoo, weights and model formats; knows nothing of the pipeline config" },
  { layer: 1, places: ["cache", "util", "errors.ts"], why: "leaf helpers: they import only each other" },
];

const EXTENSIONS = [".ts", ".tsx", ".d.ts"];

/** The folder (or top-level file) of a path under src/: "src/models/zoo/vgg.ts" -> "models". */
const placeOf = (file) => file.split("/")[1].replace(/\.ts$/, "");

/** The layer entry that places a path under src/, or undefined when none does. */
const layerOf = (file) => LAYERS.find((l) => l.places.includes(file.split("/")[1]));

function sourceFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(path);
    return /\.tsx?$/.test(e.name) ? [path] : [];
  });
}

/** Every module specifier a file names, with its line: import/export from, import = require,
 *  import(), require(), require.resolve() and `import("x")` types. Comments and strings are not code. */
export function importsOf(file, text) {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const found = [];
  const add = (node) => {
    if (node && ts.isStringLiteralLike(node)) found.push({ spec: node.text, line: source.getLineAndCharacterOfPosition(node.getStart()).line + 1 });
  };
  const visit = (node) => {
    if (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) add(node.moduleSpecifier);
    else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) add(node.moduleReference.expression);
    else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) add(node.argument.literal);
    else if (ts.isCallExpression(node) && isImportCall(node.expression)) add(node.arguments[0]);
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

function isImportCall(callee) {
  if (callee.kind === ts.SyntaxKind.ImportKeyword) return true;
  if (ts.isIdentifier(callee)) return callee.text === "require";
  return ts.isPropertyAccessExpression(callee) && ts.isIdentifier(callee.expression) && callee.expression.text === "require" && callee.name.text === "resolve";
}

/** The file a relative specifier names, or undefined. `./x.js` names `./x.ts`, as tsc reads it. */
function resolveSpecifier(from, spec) {
  const base = resolve(dirname(from), spec);
  const stems = [base, base.replace(/\.[cm]?js$/, "")];
  for (const stem of stems) {
    if (/\.tsx?$/.test(stem) && existsSync(stem) && statSync(stem).isFile()) return stem;
    for (const ext of EXTENSIONS) if (existsSync(stem + ext)) return stem + ext;
    for (const ext of EXTENSIONS) if (existsSync(join(stem, "index" + ext))) return join(stem, "index" + ext);
  }
  return existsSync(base) && statSync(base).isFile() ? base : undefined;
}

/** The import graph of `<root>/src`: file (src-relative, "/"-separated) -> its imports of src files. */
export function importGraph(projectRoot) {
  const root = resolve(projectRoot);
  const src = join(root, "src");
  const rel = (path) => relative(root, path).split(sep).join("/");
  const graph = new Map();
  const unresolved = [];
  for (const file of sourceFiles(src).sort()) {
    const edges = [];
    for (const { spec, line } of importsOf(file, readFileSync(file, "utf8"))) {
      if (!spec.startsWith(".")) continue; // a package or node: builtin
      const target = resolveSpecifier(file, spec);
      if (target === undefined) {
        if (resolve(dirname(file), spec).startsWith(src + sep)) unresolved.push(`${rel(file)}:${line} imports "${spec}", which names no file in src`);
        continue;
      }
      if (target.startsWith(src + sep)) edges.push({ to: rel(target), line });
    }
    graph.set(rel(file), edges);
  }
  return { graph, unresolved };
}

/** Every upward import, and every folder no layer places. */
export function layerProblems(graph) {
  const problems = [];
  const unplaced = new Set();
  for (const [file, edges] of graph) {
    const from = layerOf(file);
    if (!from) {
      const place = file.split("/").slice(0, 2).join("/");
      if (!unplaced.has(place)) problems.push(`${place} is in no layer: add it to LAYERS in scripts/check-layers.mjs (first seen in ${file})`);
      unplaced.add(place);
      continue;
    }
    for (const { to, line } of edges) {
      const target = layerOf(to);
      if (target && target.layer > from.layer)
        problems.push(`${file}:${line} imports ${to} (${placeOf(to)}, layer ${target.layer}) from ${placeOf(file)} (layer ${from.layer})`);
    }
  }
  return problems;
}

/** Strongly connected components of more than one file (or a file importing itself), by Tarjan. */
function tangles(graph) {
  let next = 0;
  const index = new Map(), low = new Map(), stack = [], onStack = new Set(), found = [];
  const connect = (v) => {
    index.set(v, next); low.set(v, next++); stack.push(v); onStack.add(v);
    for (const { to } of graph.get(v) ?? []) {
      if (!index.has(to)) { connect(to); low.set(v, Math.min(low.get(v), low.get(to))); }
      else if (onStack.has(to)) low.set(v, Math.min(low.get(v), index.get(to)));
    }
    if (low.get(v) !== index.get(v)) return;
    const part = [];
    for (let w; w !== v; ) { w = stack.pop(); onStack.delete(w); part.push(w); }
    if (part.length > 1 || (graph.get(v) ?? []).some((e) => e.to === v)) found.push(part.sort());
  };
  for (const v of graph.keys()) if (!index.has(v)) connect(v);
  return found;
}

/** The shortest loop from `start` back to itself through files of `part` (breadth first). */
function shortestLoop(graph, start, part) {
  const inPart = new Set(part);
  const before = new Map();
  const queue = [start];
  while (queue.length) {
    const v = queue.shift();
    for (const { to } of graph.get(v) ?? []) {
      if (!inPart.has(to)) continue;
      if (to === start) {
        const loop = [start];
        for (let w = v; w !== start; w = before.get(w)) loop.splice(1, 0, w);
        return [...loop, start];
      }
      if (!before.has(to)) { before.set(to, v); queue.push(to); }
    }
  }
  return [start, start];
}

/** One line per import cycle: the files in import order, and the whole tangle when it is larger. */
export function cycleProblems(graph) {
  return tangles(graph).map((part) => {
    const loop = shortestLoop(graph, part[0], part);
    const rest = part.length > loop.length - 1 ? ` (${part.length} files tangled: ${part.join(", ")})` : "";
    return `import cycle: ${loop.join(" -> ")}${rest}`;
  });
}

/** All problems of `<root>/src`, upward imports first. */
export function checkLayers(root) {
  const { graph, unresolved } = importGraph(root);
  return [...unresolved, ...layerProblems(graph), ...cycleProblems(graph)];
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const root = resolve(process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), ".."));
  const problems = checkLayers(root);
  for (const p of problems) console.log(p);
  if (problems.length) {
    console.log(`\n${problems.length} layer problem${problems.length === 1 ? "" : "s"} in ${join(root, "src")}. The layers, top to bottom (a file may import its own layer or any below):`);
    for (const l of LAYERS) console.log(`  ${String(l.layer).padStart(2)} ${l.places.join(", ")}: ${l.why}`);
    process.exit(1);
  }
  console.log(`layers ok: ${join(root, "src")} imports only down, without cycles`);
}
