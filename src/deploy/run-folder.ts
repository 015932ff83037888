import { existsSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { parse } from "yaml";
import type { PipelineConfig } from "../config/types";
import type { Manifest } from "../data/manifest";
import { UsageError } from "../errors";
import type { EvaluationReport } from "../evaluation/types";
import type { RunSummary } from "../runs/record";
import { modelWeightsSha256 } from "../models/weights-digest";

/** What a finished run folder (runs/<id>/) holds that export and the model card read. */
export interface RunFiles {
  dir: string;
  id: string;
  summary: RunSummary;
  config: PipelineConfig;
  /** Null when the run wrote none (it then has no metrics to report). */
  report: EvaluationReport | null;
  manifest: Manifest;
  manifestBytes: Buffer;
  /** runs/<id>/model: a LayersModel of base + head, or (graphModel) the head with the base beside it in base/. */
  modelDir: string;
  graphModel: boolean;
  modelWeightsSha256?: string;
  baseWeightsSha256?: string;
  tlrunVersion?: string;
}

/**
 * Read a run folder to put its model to use (`purpose`: "export", "predict with"), refusing one
 * that did not complete or has no model with a message that says which and what to do. The
 * refusals are usage errors (exit 2): the run is fine, it is the wrong one to ask.
 */
export function readRun(dir: string, purpose = "export"): RunFiles {
  const json = <T>(file: string): T | undefined => {
    const path = join(dir, file);
    if (!existsSync(path)) return undefined;
    try {
      return JSON.parse(readFileSync(path, "utf8")) as T;
    } catch (err) {
      throw new UsageError(`${path} is not valid JSON: ${(err as Error).message}`);
    }
  };
  const summary = json<RunSummary>("summary.json");
  if (!summary) throw new UsageError(`${dir} is not a run folder: it has no summary.json`);
  const id = summary.run_id ?? basename(dir);
  if (summary.status !== "completed") {
    throw new UsageError(`run ${id} is ${summary.status ?? "unfinished"}${summary.error ? ` (${summary.error.split("\n")[0]})` : ""}; only a completed run has a model to ${purpose}`);
  }
  const modelDir = join(dir, "model");
  if (!existsSync(join(modelDir, "model.json"))) throw new UsageError(`run ${id} has no model (${modelDir}/model.json is missing); its evaluate stage did not save one`);
  const configPath = join(dir, "config.resolved.yaml");
  if (!existsSync(configPath)) throw new UsageError(`run ${id} has no config.resolved.yaml, which says how to read images for its model`);
  const manifestPath = join(dir, "manifest.json");
  if (!existsSync(manifestPath)) throw new UsageError(`run ${id} has no manifest.json, so its classes are unknown`);
  const manifestBytes = readFileSync(manifestPath);
  return {
    dir, id, summary,
    config: parse(readFileSync(configPath, "utf8")) as PipelineConfig,
    report: json<EvaluationReport>("report.json") ?? null,
    manifest: JSON.parse(manifestBytes.toString("utf8")) as Manifest,
    manifestBytes,
    modelDir,
    graphModel: existsSync(join(modelDir, "base")),
    modelWeightsSha256: modelWeightsSha256(modelDir),
    baseWeightsSha256: recordedBaseSha256(summary, dir),
    tlrunVersion: json<{ context?: { tlrun_version?: string } }>("mlflow.json")?.context?.tlrun_version,
  };
}

/**
 * The base weights' sha256 if the run recorded it: extract reports `weights_sha256` in its stage
 * info, which a run keeps in summary.json's stages or metrics.jsonl when it records infos.
 */
function recordedBaseSha256(summary: RunSummary, dir: string): string | undefined {
  const loose = summary as unknown as { weights_sha256?: unknown; environment?: { weights_sha256?: unknown }; stages?: Array<{ info?: { weights_sha256?: unknown } }> };
  const found = [loose.weights_sha256, loose.environment?.weights_sha256, ...(loose.stages ?? []).map((s) => s.info?.weights_sha256)].find((v) => typeof v === "string");
  if (typeof found === "string") return found;
  const metrics = join(dir, "metrics.jsonl");
  if (!existsSync(metrics)) return undefined;
  const m = /"weights_sha256"\s*:\s*"([0-9a-f]{64})"/.exec(readFileSync(metrics, "utf8"));
  return m?.[1];
}
