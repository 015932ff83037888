import { existsSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { parse } from "yaml";
import type { EvaluationReport } from "../evaluation/types";
import type { RunSummary } from "../runs/record";
import { modelWeightsSha256 } from "../models/weights-digest";
import { gitCommit } from "../util/git";
import { normalizeReport } from "./normalize";
import type { EpochRecord } from "./svg-curves";

/** What the report shows, read back from a run folder; any part the run did not get to write is absent. */
export interface RunFolder {
  dir: string;
  id: string;
  configText?: string;
  config: Record<string, unknown>;
  summary?: RunSummary;
  epochs: EpochRecord[];
  report?: EvaluationReport;
  /** Images per split and class, from manifest.json. */
  counts?: Record<string, Record<string, number>>;
  classes?: string[];
  /** sha256 of the trained model's weight files in model.json order (the tag `tlrun sync` sets too). */
  modelSha256?: string;
  gitCommit?: string;
}

function readJson<T>(path: string): T | undefined {
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(readFileSync(path, "utf8")) as T;
  } catch {
    return undefined; // a file cut short by a crash: report without it
  }
}

/** The epoch records of metrics.jsonl, skipping a last line cut by a crash. */
function readEpochs(path: string): EpochRecord[] {
  if (!existsSync(path)) return [];
  const out: EpochRecord[] = [];
  for (const line of readFileSync(path, "utf8").split("\n")) {
    if (!line.trim()) continue;
    try {
      const rec = JSON.parse(line) as EpochRecord;
      if (rec.type === "epoch") out.push(rec);
    } catch {
      continue;
    }
  }
  return out;
}

/** Read a run folder for the report: config, summary, epoch journal, report.json, manifest counts. */
export function readRunFolder(dir: string): RunFolder {
  const configPath = join(dir, "config.resolved.yaml");
  const configText = existsSync(configPath) ? readFileSync(configPath, "utf8") : undefined;
  let config: Record<string, unknown> = {};
  try {
    config = ((configText && parse(configText)) ?? {}) as Record<string, unknown>;
  } catch {
    config = {};
  }
  const manifest = readJson<{ classes?: string[]; counts?: Record<string, Record<string, number>> }>(join(dir, "manifest.json"));
  return {
    dir, id: basename(dir), configText, config,
    summary: readJson<RunSummary>(join(dir, "summary.json")),
    epochs: readEpochs(join(dir, "metrics.jsonl")),
    report: normalizeReport(readJson<unknown>(join(dir, "report.json"))),
    counts: manifest?.counts, classes: manifest?.classes,
    modelSha256: modelWeightsSha256(join(dir, "model")),
    gitCommit: gitCommit(dir),
  };
}
