import { appendFileSync, cpSync, mkdirSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { randomBytes } from "node:crypto";
import { stringify } from "yaml";
import type { PipelineConfig } from "../config/types";
import { writeFileAtomic } from "../util/atomic";

/** The object `--json` prints and `summary.json` holds. */
export interface RunSummary {
  run_id: string;
  run_dir: string;
  name: string;
  status: "running" | "completed" | "failed" | "interrupted" | "pruned";
  backend: string;
  started_at: string;
  ended_at?: string;
  seconds?: number;
  /** Each finished stage; `info` holds its scalar facts (best_epoch, stopped_early, epochs_run, forward). */
  stages: Array<{ name: string; cached: boolean; seconds: number; key?: string; info?: Record<string, string | number | boolean | null> }>;
  metrics: Record<string, number | null>;
  data?: Record<string, unknown>;
  /** Per training stage: `data.sampling`, the train counts, the rows drawn per class each epoch, the class weights used. */
  class_balance?: Record<string, Record<string, unknown>>;
  warnings: string[];
  error?: string;
  /** The process and host that ran it, so a killed run can be told from a live one. */
  pid?: number;
  host?: string;
  /** Set when the run is a sweep trial. */
  sweep?: { id: string; trial: number };
  /** strategy: auto's decision: size, similarity, the probe per depth, what it set and the paragraph saying why. */
  strategy?: Record<string, unknown>;
}

/** The longest pipeline name a folder name carries; with the time and the random suffix, ids stay near 90 characters. */
export const FOLDER_NAME_MAX = 64;

/**
 * A pipeline name as it may appear in a folder name: accents dropped, anything but letters,
 * digits, '.', '_' and '-' (slashes, spaces, other scripts) turned into '-', at most `max`
 * characters. A long name keeps its start and its end (where "-sweep" or a variant tends to
 * be), so the folder stays recognisable; the whole name stays in summary.json.
 */
export function folderName(name: string, max = FOLDER_NAME_MAX): string {
  const clean = (s: string): string => s.replace(/^[-._]+|[-._]+$/g, "");
  const ascii = clean(name.normalize("NFKD").replace(/\p{M}/gu, "").replace(/[^A-Za-z0-9._-]+/g, "-").replace(/-{2,}/g, "-"));
  if (!ascii) return "run";
  if (ascii.length <= max) return ascii;
  const tail = Math.floor(max / 4);
  return `${clean(ascii.slice(0, max - tail - 1))}-${clean(ascii.slice(-tail))}`;
}

/**
 * A run's folder under runs/: resolved config, per-epoch metrics (JSONL, appended line by
 * line), the summary (rewritten atomically), the model and the evaluation report.
 */
export class RunRecord {
  readonly id: string;
  readonly dir: string;

  /** `name` is the pipeline's name as written; the folder gets its `folderName`. */
  constructor(runsDir: string, name: string, existing?: string) {
    const stamp = new Date().toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);
    this.id = existing ?? `${stamp}-${folderName(name)}-${randomBytes(4).toString("hex")}`;
    this.dir = join(runsDir, this.id);
    mkdirSync(this.dir, { recursive: true });
  }

  /** An existing run folder, to append to (a resumed sweep). */
  static open(dir: string): RunRecord {
    return new RunRecord(dirname(dir), "", basename(dir));
  }

  writeConfig(config: PipelineConfig): void {
    writeFileAtomic(join(this.dir, "config.resolved.yaml"), stringify(config));
  }

  /** Append one record to metrics.jsonl; a line is written whole or not at all. */
  appendMetrics(record: Record<string, unknown>): void {
    appendFileSync(join(this.dir, "metrics.jsonl"), JSON.stringify(record) + "\n");
  }

  writeSummary(summary: RunSummary): void {
    writeFileAtomic(join(this.dir, "summary.json"), JSON.stringify(summary, null, 2));
  }

  /** Copy a finished cache entry's files (model, report) into the run folder. */
  copyIn(from: string, to: string): void {
    cpSync(from, join(this.dir, to), { recursive: true });
  }
}
