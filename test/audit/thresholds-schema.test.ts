/**
 * The audit's thresholds have two homes: the engine's AUDIT_DEFAULTS (what the finders use when
 * called directly, and what docs/audit.md measured) and the schema's defaults (what a pipeline
 * gets when it sets none). These tests keep the two equal, key for key, so neither can drift.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AUDIT_DEFAULTS } from "../../src/audit/findings";
import { loadConfig } from "../../src/config";
import { finderThresholds } from "../../src/stages/audit";

test("every audit threshold of the schema defaults to the engine's value, and every engine threshold is in the schema", () => {
  const dir = mkdtempSync(join(tmpdir(), "tlrun-audit-thresholds-"));
  try {
    const file = join(dir, "p.yaml");
    writeFileSync(file, "name: t\ndata: { dir: data }\nbase: { model: mobilenet_v2 }\n");
    const fromSchema = finderThresholds(loadConfig(file).config.data.audit.thresholds);
    assert.deepEqual(fromSchema, { ...AUDIT_DEFAULTS });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a threshold the pipeline sets overrides only that default", () => {
  const dir = mkdtempSync(join(tmpdir(), "tlrun-audit-thresholds-"));
  try {
    const file = join(dir, "p.yaml");
    writeFileSync(file, "name: t\ndata: { dir: data, audit: { thresholds: { aligned_max_error: 9 } } }\nbase: { model: mobilenet_v2 }\n");
    assert.deepEqual(finderThresholds(loadConfig(file).config.data.audit.thresholds), { ...AUDIT_DEFAULTS, alignedMaxError: 9 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
