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
}

/**
 * A run's folder under runs/: resolved config, per-epoch metrics (JSONL, appended line by
 * line), the summary (rewritten atomically), the model and the evaluation report.
 */
export class RunRecord {
  readonly id: string;
  readonly dir: string;

  constructor(runsDir: string, name: string, existing?: string) {
    const stamp = new Date().toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);
    this.id = existing ?? `${stamp}-${name}-${randomBytes(4).toString("hex")}`;
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
