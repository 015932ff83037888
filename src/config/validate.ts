import Ajv, { type ErrorObject, type ValidateFunction } from "ajv";
import { stringify } from "yaml";
import { didYouMean, type Problem } from "../errors";
import type { PipelineConfig } from "./types";
import type { Where } from "./load-yaml";
import { joinPath } from "./overrides";
import schema from "../../schemas/pipeline.schema.json";

type Schema = { default?: unknown; examples?: unknown[]; properties?: Record<string, unknown>; [k: string]: unknown };

let compiled: ValidateFunction | undefined;

/** The compiled schema validator: fills defaults in place and collects every error. */
function validator(): ValidateFunction {
  compiled ??= new Ajv({ allErrors: true, useDefaults: true, verbose: true, allowUnionTypes: true }).compile(schema);
  return compiled;
}

/**
 * Pass 1: checks `data` against schemas/pipeline.schema.json and fills defaults. Each schema
 * error becomes one located Problem; on success the data is a complete PipelineConfig.
 */
export function validateStructure(data: unknown, where: Where): { config?: PipelineConfig; problems: Problem[] } {
  const validate = validator();
  if (validate(data)) {
    const config = data as PipelineConfig;
    const size = config.base.input_size as unknown;
    if (typeof size === "number") config.base.input_size = [size, size];
    return { config, problems: [] };
  }
  const problems = pickErrors(validate.errors ?? []).map((e) => toProblem(e, where));
  return { problems: problems.filter((p, i) => problems.findIndex((q) => q.message === p.message) === i) };
}

/** Drops ajv's noise: anyOf wrappers, branches that do not apply, and errors behind a type error. */
function pickErrors(errors: ErrorObject[]): ErrorObject[] {
  let out = errors;
  for (const any of errors.filter((e) => e.keyword === "anyOf" || e.keyword === "oneOf")) {
    const inner = out.filter((e) => e.schemaPath.startsWith(`${any.schemaPath}/`));
    // a branch whose type does not match the value does not apply, whatever else it says (enum)
    const branchOf = (e: ErrorObject): string => e.schemaPath.slice(any.schemaPath.length + 1).split("/")[0]!;
    const mistyped = new Set(inner.filter((e) => e.keyword === "type" && e.instancePath === any.instancePath).map(branchOf));
    const applies = inner.filter((e) => !mistyped.has(branchOf(e)));
    const branch = applies[0] && branchOf(applies[0]);
    const keep = branch === undefined ? [] : applies.filter((e) => e.schemaPath.startsWith(`${any.schemaPath}/${branch}/`));
    const merged: ErrorObject = { ...any, keyword: "type", params: { type: inner.map((e) => e.params.type).filter(Boolean) } };
    out = out.filter((e) => e !== any && !inner.includes(e)).concat(keep.length ? keep : [merged]);
  }
  const typed = new Set(out.filter((e) => e.keyword === "type").map((e) => e.instancePath));
  return out.filter((e) => e.keyword === "type" || !typed.has(e.instancePath));
}

function toProblem(e: ErrorObject, where: Where): Problem {
  const segs = e.instancePath.split("/").slice(1).map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"));
  const path = joinPath(segs);
  const key = segs[segs.length - 1] ?? "";
  const parent = e.parentSchema as Schema;
  const found = describe(e.data);
  const example = (value: unknown) => (/^\d+$/.test(key) || !key ? flow(value) : `${key}: ${flow(value)}`);
  const useful = (v: unknown) => v !== undefined && v !== "" && !(typeof v === "object" && v && !Object.keys(v).length);
  const sample = useful(parent.default) ? parent.default : parent.examples?.[0];
  const eg = sample === undefined ? "" : `, e.g. ${example(sample)}`;
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case "additionalProperties": {
      const name = String(p.additionalProperty);
      const allowed = Object.keys(parent.properties ?? {});
      const at = path ? `in ${path}` : "at the top level";
      const hint = didYouMean(name, allowed) || `allowed keys ${at}: ${allowed.join(", ")}`;
      return { location: where(joinPath([...segs, name]), true), message: `unknown key '${name}' ${at}`, hint };
    }
    case "required": {
      const name = String(p.missingProperty);
      const child = (parent.properties?.[name] ?? {}) as Schema;
      const value = child.examples?.[0] ?? "...";
      const at = path ? `in ${path}` : "at the top level";
      return { location: where(path), message: `missing required key '${name}' ${at}`, hint: `add ${name}: ${flow(value)}` };
    }
    case "type": {
      const types = ([] as unknown[]).concat(p.type).flatMap((t) => String(t).split(","));
      const want = [...new Set(types)].map(typeName).join(" or ");
      const keys = Object.keys(parent.properties ?? {}).slice(0, 3);
      const more = !eg && keys.length ? ` with keys such as ${keys.join(", ")}` : "";
      return { location: where(path), message: `${path} must be ${want}, found ${found}`, hint: `write ${want}${eg}${more}` };
    }
    case "enum": {
      const allowed = (p.allowedValues as unknown[]).map(String);
      const hint = didYouMean(String(e.data), allowed) || `write ${example(allowed[0])}`;
      return { location: where(path), message: `${path} must be one of ${allowed.join(", ")}; found ${found}`, hint };
    }
    case "pattern": {
      const fixed = String(e.data).replace(/[^A-Za-z0-9._-]+/g, "-").replace(/^[^A-Za-z0-9]+/, "") || "my-pipeline";
      return { location: where(path), message: `${path} may only use letters, digits, '.', '_' and '-', starting with a letter or digit; found ${found}`, hint: `write ${example(fixed)}` };
    }
    case "minimum": case "maximum": case "exclusiveMinimum": case "exclusiveMaximum":
      return { location: where(path), message: `${path} must be ${p.comparison} ${p.limit}, found ${found}`, hint: `allowed range: ${range(parent)}${eg}` };
    case "minItems": case "maxItems":
      return { location: where(path), message: `${path} must have ${e.keyword === "minItems" ? "at least" : "at most"} ${p.limit} items, found ${(e.data as unknown[]).length}`, hint: `write ${example(parent.default ?? parent.examples?.[0] ?? [])}` };
    case "minLength":
      return { location: where(path), message: `${path} must not be empty`, hint: `write ${example(parent.examples?.[0] ?? "...")}` };
    case "uniqueItems":
      return { location: where(`${path}.${p.i}`), message: `${path} lists ${describe((e.data as unknown[])[p.i as number])} twice`, hint: "remove the repeated entry" };
    default:
      return { location: where(path), message: `${path || "the config"} ${e.message ?? "is invalid"}` };
  }
}

function typeName(t: string): string {
  const names: Record<string, string> = { object: "a mapping", array: "a list", string: "a string", number: "a number", integer: "an integer", boolean: "true or false", null: "null" };
  return names[t] ?? t;
}

/** How a found value reads in a message: `string "high"`, `number 3`, `a list`. */
export function describe(v: unknown): string {
  if (v === null || v === undefined) return "an empty value";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "a mapping";
  if (typeof v === "string") return `string ${JSON.stringify(v)}`;
  return `${typeof v} ${String(v)}`;
}

function range(s: Schema): string {
  const lo = s.minimum !== undefined ? `${s.minimum} <= ` : s.exclusiveMinimum !== undefined ? `${s.exclusiveMinimum} < ` : "";
  const hi = s.maximum !== undefined ? ` <= ${s.maximum}` : s.exclusiveMaximum !== undefined ? ` < ${s.exclusiveMaximum}` : "";
  return `${lo}value${hi}`;
}

function flow(v: unknown): string {
  return stringify(v, { collectionStyle: "flow", flowCollectionPadding: false, lineWidth: 0 }).trim();
}
