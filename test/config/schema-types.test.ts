/**
 * src/config/schema-types.ts is generated from schemas/pipeline.schema.json and committed. These
 * tests fail when the committed file is stale, and pin down the generator's rules on scratch schemas.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

/** Repository root, from dist/test/config or test/config. */
const ROOT = resolve(__dirname, __dirname.includes(join("dist", "test")) ? "../../.." : "../..");
const GEN = join(ROOT, "scripts/gen-config-types.mjs");
const SCHEMA = join(ROOT, "schemas/pipeline.schema.json");

function gen(...args: string[]) {
  return spawnSync(process.execPath, [GEN, ...args], { encoding: "utf8" });
}

/** Runs the generator on a changed copy of the schema and returns its result. */
function genFrom(change: (schema: Record<string, any>) => void) {
  const dir = mkdtempSync(join(tmpdir(), "tlrun-gen-"));
  try {
    const schema = JSON.parse(readFileSync(SCHEMA, "utf8"));
    change(schema);
    writeFileSync(join(dir, "s.json"), JSON.stringify(schema));
    return gen("--schema", join(dir, "s.json"), "--stdout");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test("the committed schema-types.ts is what the schema generates (else run npm run gen:types)", () => {
  const r = gen("--check");
  assert.equal(r.status, 0, r.stdout + r.stderr);
});

test("a defaulted or required property is present in the type, any other is optional", () => {
  const r = genFrom((s) => {
    s.properties.head.properties.label_smoothing = { type: "number", default: 0, description: "d" };
    s.properties.head.properties.notes = { type: "string", description: "d" };
  });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^ {2}label_smoothing: number;$/m);
  assert.match(r.stdout, /^ {2}notes\?: string;$/m);
});

test("fixed-length arrays become tuples and nullable named objects become `Name | null`", () => {
  const out = gen("--stdout").stdout;
  assert.match(out, /^ {2}input_size: \[number, number\];$/m);
  assert.match(out, /^ {2}fine_tune: FineTunePhaseConfig \| null;$/m);
  assert.match(out, /^export type LayerRef = string \| number;$/m);
});

test("the generator refuses what it cannot type faithfully", () => {
  const cases: [string, (s: Record<string, any>) => void, RegExp][] = [
    ["an unnamed object", (s) => { s.properties.extra = { type: "object", additionalProperties: false, properties: {}, default: {} }; }, /needs a name in NAMES/],
    ["a default ajv ignores", (s) => { s.properties.base.properties.input_size.anyOf[0] = { type: "object", additionalProperties: false, properties: { n: { type: "integer", default: 1 } } }; }, /ignores a default under anyOf/],
    ["an unknown keyword", (s) => { s.properties.seed.allOf = [{ minimum: 1 }]; }, /keyword allOf is not supported/],
    ["a stale name table", (s) => { delete s.properties.tracking; }, /NAMES calls this TrackingConfig/],
  ];
  for (const [what, change, message] of cases) {
    const r = genFrom(change);
    assert.equal(r.status, 1, `${what}: exit ${r.status}`);
    assert.match(r.stderr, message, what);
  }
});
