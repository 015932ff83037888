import { dirname } from "node:path";
import type { LoadedConfig } from "../config/types";
import type { RunObserver } from "../executor/observer";
import type { RunRecord } from "../runs/record";
import { MlflowClient } from "./client";
import { serverFromEnv, targetFrom, type ServerSettings } from "./settings";
import { runPageUrl } from "./held-run";
import { loadState } from "./state";
import { gitCommit } from "../util/git";
import { safeUser, stateKey, syncRun, TLRUN_VERSION, writeContext, type SyncResult } from "./sync";
import { refusalLines } from "./refusals";

export interface TrackerOptions {
  /** The server; undefined records the context only, for a later `tlrun sync`. */
  server?: ServerSettings;
  warn: (message: string) => void;
  /** How long the end of a run waits for the last flush (TLRUN_MLFLOW_FLUSH_TIMEOUT, default 60 s). */
  flushSeconds?: number;
  /** For a sweep trial: the sweep's run folder, which becomes the MLflow parent run. */
  parentDir?: string;
  /** Extra tags for this run (sweep id, trial number). */
  tags?: Record<string, string>;
}

/**
 * Follows a pipeline run into MLflow. Every event only marks the run folder dirty; a background
 * pump syncs the folder (sync.ts) whenever it is, so training never waits on HTTP and a server
 * that is down costs nothing but a message at the end. The run's end flushes with a bounded wait.
 */
export class MlflowTracker implements RunObserver {
  private readonly client?: MlflowClient;
  private dir = "";
  private dirty = false;
  /** Set once the run computed something (see onEpochEnd). */
  private live = false;
  private ending = false;
  private pump?: Promise<void>;
  private wake?: () => void;
  private last?: SyncResult;
  private error?: unknown;
  private readonly said = new Set<string>();

  constructor(private readonly opts: TrackerOptions) {
    if (opts.server) {
      // While training, give up early and leave the rest to the next pass or `tlrun sync`.
      const s = opts.server;
      this.client = new MlflowClient({ ...s, maxRetries: Math.min(s.maxRetries, 3), backoffSeconds: Math.min(s.backoffSeconds, 0.5), timeoutSeconds: Math.min(s.timeoutSeconds, 30) });
    }
  }

  onRunStart({ record, loaded }: { record: RunRecord; loaded: LoadedConfig }): void {
    this.dir = record.dir;
    const { config } = loaded;
    writeContext(record.dir, {
      source_name: loaded.file,
      user: safeUser(),
      git_commit: gitCommit(dirname(loaded.file)),
      tlrun_version: TLRUN_VERSION,
      target: { ...targetFrom(config.tracking, config.name, record.id), ...(this.opts.tags ? { tags: { ...config.tracking.tags, ...this.opts.tags } } : {}) },
      ...(this.opts.parentDir ? { parent_dir: this.opts.parentDir } : {}),
    });
  }

  /**
   * Nothing is sent until the run computes something: a run whose every stage is a cache hit
   * makes no MLflow run (held-run.ts), so the first pass waits for an epoch or a stage that was
   * not cached, or for the run's end.
   */
  onEpochEnd(logs: { cached: boolean }): void {
    if (!logs.cached) this.live = true;
    if (this.live) this.kick();
  }

  onStageEnd(stage: { cached: boolean }): void {
    if (!stage.cached) this.live = true;
    if (this.live) this.kick();
  }

  async onRunEnd(): Promise<void> {
    if (!this.client || !this.dir) return;
    this.ending = true;
    this.kick();
    this.wake?.();
    const seconds = this.opts.flushSeconds ?? Number(process.env.TLRUN_MLFLOW_FLUSH_TIMEOUT ?? 60);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      this.pump!.then(() => false),
      new Promise<boolean>((r) => (timer = setTimeout(() => r(true), seconds * 1000))),
    ]);
    clearTimeout(timer);
    this.report(timedOut, seconds);
  }

  /** The run's page in the MLflow UI once the server holds it, or the page of the run that already holds a fully cached run's result. */
  runUrl(): string | undefined {
    if (!this.client || !this.dir) return undefined;
    const s = loadState(this.dir).servers[stateKey(this.client)];
    const at = s?.held_by ?? (s?.run_id && s.experiment_id ? { run_id: s.run_id, experiment_id: s.experiment_id } : undefined);
    return at && runPageUrl(this.client.server.uri, at.experiment_id, at.run_id);
  }

  private kick(): void {
    if (!this.client || !this.dir) return;
    this.dirty = true;
    this.pump ??= this.loop();
  }

  private async loop(): Promise<void> {
    try {
      await this.passes();
    } finally {
      this.pump = undefined;
    }
  }

  private async passes(): Promise<void> {
    while (this.dirty) {
      this.dirty = false;
      try {
        this.last = await syncRun(this.dir, this.client!);
        this.error = undefined;
        this.say([...this.last.notes, ...refusalLines(this.last.rejected).map((r) => `the server refused ${r}`)]);
      } catch (e) {
        this.error = e;
        if (!this.ending) await new Promise<void>((r) => { const t = setTimeout(r, 5000); t.unref(); this.wake = () => (clearTimeout(t), r()); });
      }
    }
  }

  private say(messages: string[]): void {
    for (const m of messages) if (!this.said.has(m)) this.said.add(m), this.opts.warn(`mlflow: ${m}`);
  }

  private report(timedOut: boolean, seconds: number): void {
    const id = this.dir.split(/[\\/]/).pop();
    if (timedOut) this.opts.warn(`mlflow: still sending after ${seconds}s; anything not acknowledged is sent by 'tlrun sync ${id}'`);
    else if (this.error) this.opts.warn(`mlflow: ${(this.error as Error).message ?? this.error}\nmlflow: the run is complete in ${this.dir}; send it when the server is back with 'tlrun sync ${id}'`);
    else if (this.last?.pending) this.opts.warn(`mlflow: ${this.last.pending} items not acknowledged; send them with 'tlrun sync ${id}'`);
  }
}

/** The tracker for `tlrun run`: the server from MLFLOW_TRACKING_URI, if any. */
export function trackerFromEnv(warn: (message: string) => void, extra: Pick<TrackerOptions, "parentDir" | "tags"> = {}): MlflowTracker {
  return new MlflowTracker({ server: serverFromEnv(), warn, ...extra });
}
