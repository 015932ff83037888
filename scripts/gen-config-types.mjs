// Writes src/config/schema-types.ts, the config types, from schemas/pipeline.schema.json, so the
// schema is their single source. `npm run gen:types` runs it; build, prepare, test and bench run it
// before tsc. `--check` exits 1 when the committed file is not what the schema generates
// (test/config/schema-types.test.ts runs it); `--stdout` prints instead of writing; `--schema F`
// and `--out F` read and write other files, for trying a schema change on a scratch copy.
//
// The types are the *resolved* shape, what validateStructure() returns: ajv runs with
// useDefaults, so a property that is `required` or has a `default` is always present, and every
// other property is optional. Only the subset of JSON Schema that the pipeline schema uses is
// understood; anything else stops the generator rather than producing a looser type.
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const arg = (flag, fallback) => (process.argv.includes(flag) ? process.argv[process.argv.indexOf(flag) + 1] : fallback);
const schemaFile = arg("--schema", join(root, "schemas/pipeline.schema.json"));
const outFile = arg("--out", join(root, "src/config/schema-types.ts"));

/**
 * Exported type name -> the schema nodes (JSON pointers) it names, in the order they are written
 * out. Every object with properties needs a name here. Several pointers may share a name when they
 * generate the same type (the optimizer enum of both phases); the first one's description is the
 * type's doc comment.
 */
const NAMES = {
  Preprocessing: ["#/properties/data/properties/preprocessing"],
  ColorMode: ["#/properties/data/properties/color_mode"],
  Interpolation: ["#/properties/data/properties/interpolation"],
  BadImagePolicy: ["#/properties/data/properties/on_bad_image"],
  Activation: ["#/definitions/dense_layer/properties/activation"],
  OptimizerName: ["#/definitions/head_phase/properties/optimizer", "#/definitions/fine_tune_phase/properties/optimizer"],
  BackendChoice: ["#/properties/runtime/properties/backend"],
  SplitConfig: ["#/properties/data/properties/split"],
  LabelColumns: ["#/properties/data/properties/columns"],
  MissingFilePolicy: ["#/properties/data/properties/on_missing"],
  DataConfig: ["#/properties/data"],
  BaseConfig: ["#/properties/base"],
  LayerRef: ["#/properties/freeze/properties/at", "#/definitions/fine_tune_phase/properties/lr_multipliers/items/properties/from"],
  FreezeConfig: ["#/properties/freeze"],
  StrategySettings: ["#/properties/strategy/anyOf/1"],
  DenseLayerConfig: ["#/definitions/dense_layer"],
  HeadConfig: ["#/properties/head"],
  AugmentConfig: ["#/properties/augment"],
  ScheduleConfig: ["#/definitions/schedule"],
  EarlyStoppingConfig: ["#/definitions/early_stopping"],
  PhaseConfig: ["#/definitions/head_phase"],
  LrMultiplier: ["#/definitions/fine_tune_phase/properties/lr_multipliers/items"],
  FineTunePhaseConfig: ["#/definitions/fine_tune_phase"],
  TrainConfig: ["#/properties/train"],
  SamplingPolicy: ["#/properties/data/properties/sampling"],
  AuditConfig: ["#/properties/data/properties/audit"],
  AuditThresholdsConfig: ["#/properties/data/properties/audit/properties/thresholds"],
  ClassWeight: ["#/properties/train/properties/class_weight"],
  ThresholdTarget: ["#/properties/evaluate/properties/threshold/oneOf/2"],
  ThresholdRule: ["#/properties/evaluate/properties/threshold"],
  ExplainConfig: ["#/properties/evaluate/properties/explain"],
  EvaluateConfig: ["#/properties/evaluate"],
  RuntimeConfig: ["#/properties/runtime"],
  TrackingConfig: ["#/properties/tracking"],
  SweepMethod: ["#/properties/sweep/properties/method"],
  SweepMetric: ["#/properties/sweep/properties/metric"],
  SweepParameter: ["#/definitions/sweep_parameter"],
  AshaConfig: ["#/properties/sweep/properties/asha"],
  SweepConfig: ["#/properties/sweep"],
  PipelineConfig: ["#"],
};

/**
 * Properties that validateStructure() rewrites after ajv, mapped to the anyOf branch (by type)
 * whose shape they end up in: `input_size: 160` becomes [160, 160].
 */
const NORMALISED = { "#/properties/base/properties/input_size": "array" };

/** Keywords that only constrain values (or annotate) and so do not change the TypeScript type. */
const IGNORED = new Set(["$schema", "$comment", "title", "description", "default", "examples", "definitions", "minimum", "maximum",
  "exclusiveMinimum", "exclusiveMaximum", "multipleOf", "minLength", "maxLength", "pattern", "format", "uniqueItems", "minItems", "maxItems"]);
const HANDLED = new Set(["type", "enum", "const", "properties", "required", "additionalProperties", "items", "anyOf", "oneOf", "$ref"]);

const schema = JSON.parse(readFileSync(schemaFile, "utf8"));
const nameOf = new Map(Object.entries(NAMES).flatMap(([name, ptrs]) => ptrs.map((p) => [p, name])));
const declared = new Map(); // name -> { ptr, text, doc }
const seen = new Set(); // pointers that were reached

const fail = (ptr, msg) => {
  console.error(`gen-config-types: ${relative(root, schemaFile)} ${ptr}: ${msg}`);
  process.exit(1);
};

function resolve(ref, ptr) {
  if (!ref.startsWith("#/")) fail(ptr, `only local $refs are supported, found ${ref}`);
  return ref.slice(2).split("/").reduce((n, k) => n?.[k.replace(/~1/g, "/").replace(/~0/g, "~")], schema) ?? fail(ptr, `$ref ${ref} points nowhere`);
}

/** The TypeScript type of `node` where it is used: a name when it has one, else its shape inline. */
function typeOf(node, ptr) {
  if (node.$ref) return typeOf(resolve(node.$ref, ptr), node.$ref);
  seen.add(ptr);
  const name = nameOf.get(ptr);
  if (!name) return shape(node, ptr);
  declare(name, node, ptr);
  return isObject(node) && types(node).includes("null") ? `${name} | null` : name;
}

function declare(name, node, ptr) {
  const obj = isObject(node);
  const body = obj ? objectBody(node, ptr) : shape(node, ptr);
  const text = obj ? `export interface ${name} ${body}` : `export type ${name} = ${body};`;
  const prev = declared.get(name);
  if (prev && prev.text !== text) fail(ptr, `generates a different type than ${prev.ptr}, which NAMES also calls ${name}`);
  if (!prev) declared.set(name, { ptr, text, doc: doc(node.description, "") });
}

const types = (node) => [].concat(node.type ?? []);
const isObject = (node) => types(node).includes("object") && node.properties !== undefined;

/** The inline type of a node that has no name of its own. */
function shape(node, ptr) {
  for (const k of Object.keys(node)) if (!IGNORED.has(k) && !HANDLED.has(k)) fail(ptr, `keyword ${k} is not supported by the generator`);
  const key = node.anyOf ? "anyOf" : "oneOf";
  const branches = node[key];
  branches?.forEach((b, i) => noDefaults(b, `${ptr}/${key}/${i}`));
  if (NORMALISED[ptr]) {
    const i = (node.anyOf ?? []).findIndex((b) => types(b).includes(NORMALISED[ptr]));
    if (i < 0) fail(ptr, `NORMALISED expects an anyOf branch of type ${NORMALISED[ptr]}`);
    return typeOf(node.anyOf[i], `${ptr}/anyOf/${i}`);
  }
  if (node.enum) return node.enum.map((v) => JSON.stringify(v)).join(" | ");
  if ("const" in node) return JSON.stringify(node.const);
  if (branches) {
    if (node.type) fail(ptr, "type beside anyOf/oneOf is not supported");
    return union(branches.map((b, i) => typeOf(b, `${ptr}/${key}/${i}`)));
  }
  if (!node.type) return "unknown";
  return union(types(node).map((t) => scalar(t, node, ptr)));
}

function scalar(t, node, ptr) {
  switch (t) {
    case "string": case "boolean": case "null": return t;
    case "number": case "integer": return "number";
    case "array": return array(node, ptr);
    case "object": {
      if (node.properties) fail(ptr, "an object with properties needs a name in NAMES (scripts/gen-config-types.mjs)");
      const extra = node.additionalProperties;
      return `Record<string, ${extra && extra !== true ? typeOf(extra, `${ptr}/additionalProperties`) : "unknown"}>`;
    }
    default: return fail(ptr, `unknown type ${t}`);
  }
}

/** `T[]`, or a tuple when minItems and maxItems fix the length. */
function array(node, ptr) {
  if (Array.isArray(node.items)) fail(ptr, "tuple-form items is not supported; use minItems/maxItems");
  const item = node.items ? typeOf(node.items, `${ptr}/items`) : "unknown";
  const n = node.minItems;
  if (n !== undefined && n === node.maxItems && n <= 16) return `[${Array(n).fill(item).join(", ")}]`;
  return /[ |]/.test(item) ? `(${item})[]` : `${item}[]`;
}

/** `{ ... }` with one member per property; present after validation when required or defaulted. */
function objectBody(node, ptr) {
  for (const k of Object.keys(node)) if (!IGNORED.has(k) && !HANDLED.has(k)) fail(ptr, `keyword ${k} is not supported by the generator`);
  if (node.additionalProperties !== false) fail(ptr, "an object with properties must set additionalProperties: false");
  const required = node.required ?? [];
  for (const r of required) if (!(r in node.properties)) fail(ptr, `required lists ${r}, which is not a property`);
  const lines = Object.entries(node.properties).map(([key, prop]) => {
    const at = `${ptr}/properties/${key}`;
    const present = required.includes(key) || "default" in prop;
    const target = prop.$ref ? resolve(prop.$ref, at) : prop;
    const tag = "default" in prop ? `@default ${JSON.stringify(prop.default)}` : "";
    const id = /^[A-Za-z_$][\w$]*$/.test(key) ? key : JSON.stringify(key);
    return `${doc(prop.description ?? target.description, "  ", tag)}  ${id}${present ? "" : "?"}: ${typeOf(prop, at)};\n`;
  });
  return `{\n${lines.join("")}}`;
}

/** ajv fills no default under anyOf/oneOf (it is not known which branch applies), so none may be there. */
function noDefaults(node, ptr) {
  if (node.$ref) return noDefaults(resolve(node.$ref, ptr), node.$ref);
  for (const [k, p] of Object.entries(node.properties ?? {})) {
    if ("default" in p) fail(`${ptr}/properties/${k}`, "ajv ignores a default under anyOf/oneOf, so the type cannot promise it");
    noDefaults(p, `${ptr}/properties/${k}`);
  }
  if (node.items && !Array.isArray(node.items)) noDefaults(node.items, `${ptr}/items`);
  if (typeof node.additionalProperties === "object") noDefaults(node.additionalProperties, `${ptr}/additionalProperties`);
}

function union(parts) {
  return [...new Set(parts)].join(" | ");
}

/** A JSDoc comment wrapped to 100 columns; empty when there is nothing to say. */
function doc(text, indent, tag = "") {
  const words = `${text ?? ""}`.replace(/\*\//g, "*\\/").split(/\s+/).filter(Boolean);
  const lines = [];
  for (const w of words) {
    const last = lines.length - 1;
    if (last >= 0 && indent.length + 3 + lines[last].length + 1 + w.length <= 100) lines[last] += ` ${w}`;
    else lines.push(w);
  }
  if (tag) lines.push(tag);
  if (!lines.length) return "";
  if (lines.length === 1 && indent.length + lines[0].length + 7 <= 100) return `${indent}/** ${lines[0]} */\n`;
  return `${indent}/**\n${lines.map((l) => `${indent} * ${l}\n`).join("")}${indent} */\n`;
}

typeOf(schema, "#");
for (const [ptr, name] of nameOf) if (!seen.has(ptr)) fail(ptr, `NAMES calls this ${name}, but no such node is reached in the schema`);
for (const ptr of Object.keys(NORMALISED)) if (!seen.has(ptr)) fail(ptr, "NORMALISED lists this, but no such node is reached in the schema");

const header = `// Generated by scripts/gen-config-types.mjs from schemas/pipeline.schema.json. Do not edit:
// change the schema and run \`npm run gen:types\` (build, prepare, test and bench also run it).
// These are the resolved types: after validation every required or defaulted property is present.
`;
const text = header + Object.keys(NAMES).map((n) => `\n${declared.get(n).doc}${declared.get(n).text}\n`).join("");

if (process.argv.includes("--stdout")) process.stdout.write(text);
else if (process.argv.includes("--check")) {
  let same = false;
  try { same = readFileSync(outFile, "utf8") === text; } catch { /* missing counts as stale */ }
  console.log(same ? `${relative(root, outFile)} is up to date` : `${relative(root, outFile)} is stale: run npm run gen:types`);
  process.exit(same ? 0 : 1);
} else {
  let old = "";
  try { old = readFileSync(outFile, "utf8"); } catch { /* first run */ }
  if (old !== text) {
    writeFileSync(outFile, text);
    console.log(`gen-config-types: wrote ${relative(root, outFile)} from the schema; commit it with the schema change`);
  }
}
