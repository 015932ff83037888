/**
 * The features tlrun's audit reads, exported for cleanlab's Datalab (scripts/python/datalab_audit.py):
 * the extract stage's plain features as the audit stage reads them (`stages/audit.ts:pooledFeatures`),
 * in manifest order, taken from the cache entries a `tlrun audit` of the same pipeline has just used. Datalab thus sees exactly the
 * rows the audit's finders saw, with the same labels.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadPipeline } from "../src/executor/load";
import { resolve as resolvePlan } from "../src/plan/resolve";
import { pooledFeatures } from "../src/stages/audit";
import { readManifest } from "../src/stages/prepare";

export interface ExportedMeta {
  dim: number;
  classes: string[];
  labels: number[];
  /** Relative to data.dir, as the audit's JSON names them. */
  paths: string[];
  splits: string[];
}

/** The cached entry of `stage` for `pipeline`; throws when the audit has not computed it yet. */
function entryOf(pipeline: string, stage: "prepare" | "extract"): string {
  const plan = resolvePlan(loadPipeline(pipeline));
  const s = plan.stages.find((x) => x.name === stage);
  if (!s?.key || !s.cached) throw new Error(`${stage} of ${pipeline} is not cached: run 'tlrun audit ${pipeline}' first`);
  return plan.cache.entryDir(stage, s.key);
}

/** Every image's features as the audit reads them (rows × dim), and the manifest rows they belong to. */
export function auditFeatures(pipeline: string): { features: Float32Array; meta: ExportedMeta } {
  const manifest = readManifest(entryOf(pipeline, "prepare"));
  const { features, dim } = pooledFeatures(entryOf(pipeline, "extract")); // the audit stage's own reader: the rows its finders get
  if (features.length !== manifest.items.length * dim) throw new Error(`the extract entry holds ${features.length / dim} rows for ${manifest.items.length} images`);
  const meta: ExportedMeta = {
    dim, classes: manifest.classes, labels: manifest.items.map((i) => i.label),
    paths: manifest.items.map((i) => i.rel), splits: manifest.items.map((i) => i.split),
  };
  return { features, meta };
}

/** Write `features.f32` and `meta.json` into `dir` for the Python side; returns their paths. */
export function writeAuditFeatures(pipeline: string, dir: string): { features: string; meta: string; exported: ExportedMeta } {
  const { features, meta } = auditFeatures(pipeline);
  const paths = { features: join(dir, "features.f32"), meta: join(dir, "meta.json") };
  writeFileSync(paths.features, new Uint8Array(features.buffer, features.byteOffset, features.byteLength));
  writeFileSync(paths.meta, JSON.stringify(meta));
  return { ...paths, exported: meta };
}
