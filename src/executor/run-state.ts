import { existsSync, readFileSync } from "node:fs";
import { writeFileAtomic } from "../util/atomic";
import { hostname } from "node:os";
import { join } from "node:path";
import type { LoadedConfig } from "../config/types";
import { InterruptedError } from "../errors";
import type { StageName } from "../plan/compile";
import { runsDirOf } from "../plan/paths";
import { writeRunReport } from "../report/write";
import { AUDIT_CSVS, AUDIT_JSON, AUDIT_THUMBS } from "../stages/audit-output";
import { RunRecord, type RunSummary } from "../runs/record";
import type { EpochLogs } from "../training/callbacks";
import { Observers, type RunObserver, type StageEvent } from "./observer";
import { summaryMetrics } from "./summary";

/** The abort reason a sweep gives a trial that ASHA stops: the run ends as `pruned`, not interrupted. */
export const PRUNED = "pruned";

/** A stage info's plain values (not histories or lists), for the summary and the report. */
function scalars(info: Record<string, unknown>): Record<string, string | number | boolean | null> {
  const out: Record<string, string | number | boolean | null> = {};
  for (const [k, v] of Object.entries(info ?? {})) if (v === null || ["string", "number", "boolean"].includes(typeof v)) out[k] = v as string | number | boolean | null;
  return out;
}

/**
 * A run as it is recorded: runs/<run-id>/ (config, summary, metrics journal) and the observers
 * that follow it. Every change is written through, so a crash leaves a readable record.
 */
export class RunState {
  readonly record: RunRecord;
  readonly summary: RunSummary;
  private readonly observers: Observers;
  private readonly infos = new Map<StageName, Record<string, unknown>>();
  private readonly started = Date.now();

  constructor(loaded: LoadedConfig, observers: RunObserver[], sweep?: { id: string; trial: number }) {
    const { config } = loaded;
    this.record = new RunRecord(runsDirOf(loaded), config.name);
    this.record.writeConfig(config);
    this.summary = {
      run_id: this.record.id, run_dir: this.record.dir, name: config.name, status: "running", backend: "",
      started_at: new Date(this.started).toISOString(), stages: [], metrics: {}, warnings: [], pid: process.pid, host: hostname(),
      ...(sweep ? { sweep } : {}),
    };
    this.record.writeSummary(this.summary);
    this.observers = new Observers(observers, (m) => this.warn(m));
    this.observers.emit("onRunStart", { record: this.record, summary: this.summary, loaded });
  }

  warn(message: string): void {
    this.summary.warnings.push(message);
  }

  /** An epoch's logs into the journal and to the observers; `cached` for epochs replayed from a cache hit. */
  epoch(logs: EpochLogs, cached: boolean): void {
    this.record.appendMetrics({ type: "epoch", cached, ...logs });
    this.observers.emit("onEpochEnd", { ...logs, cached });
  }

  stageEnd(event: StageEvent): void {
    this.infos.set(event.name as StageName, event.info);
    // a stage's warnings about its result (an imbalanced train split, a collapsed model, a
    // missed class) are the run's, whether the stage ran or came from the cache
    const warnings = event.info.warnings;
    if (Array.isArray(warnings)) for (const w of warnings) if (typeof w === "string" && !this.summary.warnings.includes(w)) this.warn(w);
    const { info, ...entry } = event;
    const facts = scalars(info);
    this.summary.stages.push(Object.keys(facts).length ? { ...entry, info: facts } : entry);
    this.record.writeSummary(this.summary);
    this.observers.emit("onStageEnd", event);
  }

  /** strategy: auto's decision, into summary.json now and into report.json with the outputs. */
  strategy(record: Record<string, unknown>): void {
    this.summary.strategy = record;
    this.record.writeSummary(this.summary);
  }

  /** The outputs a user opens: the model, the report, the figures and the manifest (the audit's, when it dropped images). */
  keepOutputs(evaluateDir: string, manifestDir: string): void {
    this.record.copyIn(join(evaluateDir, "model"), "model");
    this.record.copyIn(join(evaluateDir, "report.json"), "report.json");
    if (this.summary.strategy) {
      // the cached report is shared by explicit runs of the same choice; only this run's copy says how it was chosen
      const report = join(this.record.dir, "report.json");
      writeFileAtomic(report, JSON.stringify({ ...JSON.parse(readFileSync(report, "utf8")), strategy: this.summary.strategy }, null, 2));
    }
    // figures a stage draws (attention maps) join the run's plots, uploaded as artifacts
    if (existsSync(join(evaluateDir, "plots"))) this.record.copyIn(join(evaluateDir, "plots"), "plots");
    this.keepManifest(manifestDir);
  }

  keepManifest(dir: string): void {
    this.record.copyIn(join(dir, "manifest.json"), "manifest.json");
  }

  /** runs/<id>/audit/: the audit's CSVs, its findings and the thumbnails the report shows. */
  keepAudit(auditDir: string): void {
    for (const f of [...AUDIT_CSVS, AUDIT_JSON, AUDIT_THUMBS]) if (existsSync(join(auditDir, f))) this.record.copyIn(join(auditDir, f), join("audit", f));
  }

  /** How the run ended, from what was thrown (nothing: completed). Returns the error to rethrow, if any. */
  settle(err: unknown, signal?: AbortSignal): Error | undefined {
    if (err === undefined) return void (this.summary.status = "completed");
    const pruned = err instanceof InterruptedError && signal?.reason === PRUNED;
    this.summary.status = pruned ? "pruned" : err instanceof InterruptedError ? "interrupted" : "failed";
    if (pruned) return undefined;
    this.summary.error = err instanceof Error ? err.message : String(err);
    return err instanceof Error ? err : new Error(String(err));
  }

  /** report.html and plots/, before the tracker uploads them; a failure here is a warning, never a lost run. */
  private async writeReport(): Promise<void> {
    try {
      await writeRunReport(this.record.dir);
    } catch (err) {
      this.warn(`the run's report.html could not be written: ${(err as Error)?.message ?? err}`);
      this.record.writeSummary(this.summary);
    }
  }

  /** Metrics, timings and the final summary written; report.html; observers flushed. */
  async end(): Promise<RunSummary> {
    Object.assign(this.summary, summaryMetrics(this.infos));
    this.summary.ended_at = new Date().toISOString();
    this.summary.seconds = (Date.now() - this.started) / 1000;
    this.record.writeSummary(this.summary);
    if (this.summary.status === "completed") this.record.appendMetrics({ type: "final", ...this.summary.metrics });
    await this.writeReport();
    await this.observers.end(this.summary, this.record);
    return this.summary;
  }
}
