/**
 * Checks on schemas/pipeline.schema.json itself. The config types are generated from it
 * (schema-types.test.ts keeps them fresh); these tests check the promise they rest on, that after
 * validation every required or defaulted property is present, and the schema's own conventions.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "../../src/config";
import type { PipelineConfig } from "../../src/config/types";
import schema from "../../schemas/pipeline.schema.json";

type Node = { $ref?: string; type?: unknown; properties?: Record<string, Node>; items?: Node; required?: string[]; additionalProperties?: unknown; description?: string; default?: unknown };

const deref = (node: Node): Node => (node.$ref ? (schema as unknown as { definitions: Record<string, Node> }).definitions[node.$ref.split("/").pop()!]! : node);

/** Every property schema with its dotted path (`[]` for list items), following $refs. */
function* walk(node: Node, path: string, parent?: Node): Generator<{ path: string; node: Node; parent?: Node }> {
  const n = deref(node);
  yield { path, node: { ...n, description: node.description ?? n.description, default: "default" in node ? node.default : n.default }, parent };
  for (const [k, child] of Object.entries(n.properties ?? {})) yield* walk(child, path ? `${path}.${k}` : k, n);
  if (n.items) yield* walk(n.items, `${path}[]`);
}

/** Paths in `value` that the generated types promise (required or defaulted) but that are absent. */
function missing(node: Node, value: unknown, path: string): string[] {
  const n = deref(node);
  if (Array.isArray(value)) return n.items ? value.flatMap((v, i) => missing(n.items!, v, `${path}.${i}`)) : [];
  if (!value || typeof value !== "object") return [];
  const obj = value as Record<string, unknown>;
  const extra = n.additionalProperties;
  if (!n.properties) return typeof extra === "object" ? Object.entries(obj).flatMap(([k, v]) => missing(extra as Node, v, `${path}.${k}`)) : [];
  return Object.entries(n.properties).flatMap(([k, child]) => {
    if (k in obj) return missing(child, obj[k], `${path}.${k}`);
    return n.required?.includes(k) || "default" in child ? [`${path}.${k}`] : [];
  });
}

function withConfig(extra: string): PipelineConfig {
  const dir = mkdtempSync(join(tmpdir(), "tlrun-schema-"));
  try {
    writeFileSync(join(dir, "p.yaml"), `name: x\ndata: {dir: d}\n${extra}`);
    return loadConfig(join(dir, "p.yaml")).config;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const EVERY_BLOCK = [
  "freeze: {at: 3}",
  "head: {layers: [{units: 8}]}",
  "train: {fine_tune: {lr_multipliers: [{from: 3, factor: 0.1}]}}",
  "sweep: {max_trials: 4, parameters: {head.dropout: {min: 0, max: 0.5}}}",
].join("\n");

test("after validation every required or defaulted property is present, as the generated types say", () => {
  for (const extra of ["", EVERY_BLOCK]) {
    const config = withConfig(`${extra}\n`);
    assert.deepEqual(missing(schema as Node, config, "config"), [], extra || "minimal config");
  }
});

test("the optional blocks get their defaults, and sweep parameters keep dotted keys", () => {
  const config = withConfig(`${EVERY_BLOCK}\n`);
  assert.equal(config.train.fine_tune?.learning_rate, 1e-5);
  assert.equal(config.head.layers[0]?.activation, "relu");
  assert.deepEqual(config.sweep?.parameters, { "head.dropout": { min: 0, max: 0.5, log: false, int: false } });
  assert.deepEqual(config.sweep?.asha, { enabled: false, min_epochs: 3, reduction_factor: 3 });
});

test("every property has a description, a default unless required, and no extra keys allowed", () => {
  for (const { path, node, parent } of walk(schema as Node, "")) {
    if (!path) continue;
    assert.ok(node.description, `${path} has no description`);
    const required = parent?.required?.includes(path.split(".").pop()!) ?? path.endsWith("[]");
    assert.ok(required || node.default !== undefined, `${path} has no default`);
    if (node.properties) assert.equal(node.additionalProperties, false, `${path} allows unknown keys`);
  }
  assert.equal((schema as Node).additionalProperties, false);
});
