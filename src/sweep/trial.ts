import { existsSync, readdirSync, readFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import type { BackendChoice } from "../config/types";
import { execute, PRUNED } from "../executor/execute";
import { loadPipeline } from "../executor/load";
import type { RunObserver } from "../executor/observer";
import type { RunSummary } from "../runs/record";
import { settledSummary } from "../tracking/journal";
import { trackerFromEnv } from "../tracking/observer";
import { MlflowClient } from "../tracking/client";
import { serverFromEnv } from "../tracking/settings";
import { syncRun } from "../tracking/sync";
import type { EpochLogs } from "../training/callbacks";
import { rungAt, type AshaRule, type RungStore } from "./asha";
import { toOverrides, type Assignment } from "./space";

/** Everything a worker needs to run one trial; plain JSON, so it crosses IPC and Redis. */
export interface TrialSpec {
  sweepId: string;
  /** The sweep's run folder, the MLflow parent of every trial. */
  sweepDir: string;
  /** Absolute path of the pipeline file; workers on other machines need it on a shared path. */
  file: string;
  /** `--set` arguments of the sweep command. */
  overrides: string[];
  /** The runs folder, absolute, so every worker records into the same place. */
  runsDir: string;
  index: number;
  assignment: Assignment;
  backend?: BackendChoice;
  metric: string;
  maximize: boolean;
  asha?: AshaRule;
}

export type TrialStatus = "completed" | "pruned" | "failed";

export interface TrialResult {
  index: number;
  status: TrialStatus;
  runId: string;
  runDir: string;
  /** The sweep metric for this trial; null when it never got one (failed before an epoch). */
  value: number | null;
  metrics: Record<string, number | null>;
  epochs: number;
  seconds: number;
  error?: string;
}

/** What a trial reports while it runs, for the live view. */
export type TrialEvent = { type: "stage"; index: number; stage: string; cached: boolean } | { type: "epoch"; index: number; epoch: number; value: number };

export interface TrialHooks {
  rungs?: RungStore;
  signal?: AbortSignal;
  onEvent?: (e: TrialEvent) => void;
  warn?: (message: string) => void;
}

/** The sweep metric's value from a finished run: the best epoch of the last phase, or a final metric. */
export function metricValue(metric: string, maximize: boolean, epochs: readonly EpochLogs[], summary: RunSummary): number | null {
  if (metric === "val_accuracy" || metric === "val_loss") {
    const last = epochs[epochs.length - 1]?.phase;
    const values = epochs.filter((e) => e.phase === last).map((e) => e[metric]).filter(Number.isFinite);
    if (!values.length) return null;
    return maximize ? Math.max(...values) : Math.min(...values);
  }
  const v = summary.metrics[metric];
  return typeof v === "number" ? v : null;
}

/**
 * Run one trial in this process: the pipeline with the trial's values applied, recorded as an
 * ordinary run (runs/<run-id>/) tagged with its sweep, tracked as a child of the sweep's MLflow
 * run, and stopped early when ASHA says so. Stages the trial shares with others come from the
 * cache; a stage another worker is computing is waited for, not computed twice.
 */
export async function runTrial(spec: TrialSpec, hooks: TrialHooks = {}): Promise<TrialResult> {
  const started = performance.now();
  await settleEarlierAttempts(spec, hooks.warn);
  const loaded = loadPipeline(spec.file, { overrides: [...spec.overrides, ...toOverrides(spec.assignment)], skipSweep: true });
  loaded.config.sweep = null;
  loaded.config.runtime.runs_dir = spec.runsDir;
  if (!loaded.config.tracking.run_name) loaded.config.tracking.run_name = `${loaded.config.name}-trial-${spec.index}`;
  const controller = new AbortController();
  const forward = (): void => controller.abort(hooks.signal?.reason ?? "SIGINT");
  hooks.signal?.addEventListener("abort", forward, { once: true });
  if (hooks.signal?.aborted) forward();
  const epochs: EpochLogs[] = [];
  const pending: Array<Promise<void>> = [];
  const follower: RunObserver = {
    onEpochEnd: (e) => {
      epochs.push(e);
      const value = e[spec.metric as "val_accuracy"];
      hooks.onEvent?.({ type: "epoch", index: spec.index, epoch: e.global_epoch, value });
      const rung = spec.asha && rungAt(spec.asha, e.global_epoch);
      if (rung && hooks.rungs && Number.isFinite(value))
        pending.push(hooks.rungs.report(spec.index, rung, value).then((go) => void (go || controller.abort(PRUNED)), () => undefined));
    },
    onStageEnd: (s) => hooks.onEvent?.({ type: "stage", index: spec.index, stage: s.name, cached: s.cached }),
  };
  const tracker = trackerFromEnv((m) => hooks.warn?.(`trial ${spec.index}: ${m}`), { parentDir: spec.sweepDir, tags: { "tlrun.sweep_id": spec.sweepId, "tlrun.trial": String(spec.index) } });
  let summary: RunSummary | undefined;
  let error: string | undefined;
  try {
    summary = await execute(loaded, {
      backend: spec.backend, signal: controller.signal, renderer: "silent", observers: [follower, tracker],
      sweep: { id: spec.sweepId, trial: spec.index },
    });
  } catch (err) {
    if (hooks.signal?.aborted) throw err; // the sweep itself is stopping
    error = err instanceof Error ? err.message : String(err);
  } finally {
    hooks.signal?.removeEventListener("abort", forward);
    await Promise.all(pending);
  }
  const record = summary ?? lastAttempt(spec.runsDir, spec);
  return {
    index: spec.index,
    status: summary?.status === "pruned" ? "pruned" : summary?.status === "completed" ? "completed" : "failed",
    runId: record?.run_id ?? "",
    runDir: record?.run_dir ?? "",
    value: record ? metricValue(spec.metric, spec.maximize, epochs, record) : null,
    metrics: record?.metrics ?? {},
    epochs: epochs.length,
    seconds: (performance.now() - started) / 1000,
    ...(error ? { error } : {}),
  };
}

/** Run records of this trial's earlier attempts, newest last. */
function attempts(runsDir: string, spec: TrialSpec): RunSummary[] {
  if (!existsSync(runsDir)) return [];
  const out: RunSummary[] = [];
  for (const name of readdirSync(runsDir).sort()) {
    const path = join(runsDir, name, "summary.json");
    if (!existsSync(path)) continue;
    try {
      const s = JSON.parse(readFileSync(path, "utf8")) as RunSummary;
      if (s.sweep?.id === spec.sweepId && s.sweep.trial === spec.index) out.push(s);
    } catch {
      // a summary being rewritten; not ours to judge
    }
  }
  return out;
}

function lastAttempt(runsDir: string, spec: TrialSpec): RunSummary | undefined {
  return attempts(runsDir, spec).pop();
}

/**
 * An attempt whose worker was killed leaves its MLflow run RUNNING. Before retrying, send such
 * attempts (found dead on this host) so the server shows them KILLED, and only the retry finishes.
 * An attempt still alive here is ending: a queue worker's trial runs in a child process, which
 * stops its trial as interrupted when its worker dies, but may be inside a synchronous step when
 * the queue hands the job on. It is waited for, up to a minute, so that it is not left RUNNING.
 */
async function settleEarlierAttempts(spec: TrialSpec, warn?: (m: string) => void): Promise<void> {
  const server = serverFromEnv();
  for (const earlier of attempts(spec.runsDir, spec)) {
    if (earlier.status !== "running") continue;
    const s = await untilEnded(earlier);
    if (s.status !== "running") continue; // it recorded its own end, and told MLflow
    if (settledSummary(s).status === "running") {
      if (s.host === hostname()) warn?.(`trial ${spec.index}: an earlier attempt (${s.run_id}, pid ${s.pid}) is still running; this attempt goes ahead`);
      continue;
    }
    if (!server) continue;
    try {
      await syncRun(s.run_dir, new MlflowClient({ ...server, maxRetries: 2 }));
    } catch (err) {
      warn?.(`trial ${spec.index}: could not mark the killed attempt ${s.run_id} in MLflow (${(err as Error).message}); 'tlrun sync ${s.run_id}' will`);
    }
  }
}

/**
 * The attempt's record once it is no longer running, or once its process is gone, or after a
 * minute. An attempt on another host is returned as it is: its process cannot be checked from here.
 */
async function untilEnded(s: RunSummary, waitMs = 60_000): Promise<RunSummary> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    if (s.host !== hostname() || s.status !== "running" || settledSummary(s).status !== "running" || Date.now() >= deadline) return s;
    await new Promise((r) => setTimeout(r, 250));
    try {
      s = JSON.parse(readFileSync(join(s.run_dir, "summary.json"), "utf8")) as RunSummary;
    } catch {
      // being rewritten; read it again next time
    }
  }
}
