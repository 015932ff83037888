import { Listr, ListrLogger, ProcessOutput } from "listr2";
import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import { join, resolve } from "node:path";
import type { BackendChoice, LoadedConfig, SweepConfig } from "../config/types";
import { InterruptedError, UsageError } from "../errors";
import { loadPipeline } from "../executor/load";
import { checkWeightsFetchable } from "../plan/fetchable";
import { weightsStatus } from "../plan/sources";
import { runsDirOf } from "../plan/paths";
import { RunRecord, type RunSummary } from "../runs/record";
import { MlflowClient } from "../tracking/client";
import { serverFromEnv, targetFrom } from "../tracking/settings";
import { writeBestConfig } from "./best-config";
import { markUnsent, safeUser, serverRunIdOf, syncRun, TLRUN_VERSION, writeContext } from "../tracking/sync";
import { fullyCached } from "../tracking/held-run";
import { hashRecord } from "../util/hash";
import { deriveSeed, Rng } from "../util/rng";
import { shellQuote } from "../util/shell-quote";
import { MemoryRungs, type AshaRule } from "./asha";
import { applyResult, bestTrial, findUnfinished, loadState, saveState, writeArtifacts, type SweepState, type TrialState } from "./record";
import { InProcessRunner, ProcessPoolRunner, type TrialRunner } from "./runners";
import { connect, DEFAULT_QUEUE, ping, QueueRunner } from "./queue";
import { dimensions, gridPoint, gridSize, label, randomPoint, type Assignment, type Dimension } from "./space";
import { suggestTpe } from "./tpe";
import type { TrialSpec } from "./trial";

export interface SweepOptions {
  overrides?: string[];
  /** true: the newest unfinished sweep of this file; a string: that sweep's id. */
  resume?: boolean | string;
  /** A Redis URL: trials go to a BullMQ queue served by `tlrun worker`. */
  queue?: string;
  queueName?: string;
  backend?: BackendChoice;
  /** Overrides `sweep.parallel`. */
  parallel?: number;
  stream?: NodeJS.WriteStream;
  renderer?: "default" | "simple" | "silent";
  signal?: AbortSignal;
  /** The command that resumes this sweep, printed when it is interrupted; by default built from the file and overrides. */
  resumeCommand?: (sweepId: string) => string;
}

/** What `tlrun sweep --json` prints. */
export interface SweepOutcome {
  sweep_id: string;
  sweep_dir: string;
  status: SweepState["status"];
  metric: string;
  goal: "maximize" | "minimize";
  best: { trial: number; params: Assignment; value: number; metrics: Record<string, number | null>; run_id?: string } | null;
  trials: Array<{ trial: number; params: Assignment; status: TrialState["status"]; value: number | null; metrics: Record<string, number | null>; run_id?: string; seconds?: number; error?: string }>;
  seconds: number;
}

export const maximizes = (s: SweepConfig): boolean => (s.goal === "auto" ? !/loss/.test(s.metric) : s.goal === "maximize");

/** How many trials a sweep runs. */
export function plannedTrials(s: SweepConfig, dims: readonly Dimension[]): number {
  return s.method === "grid" ? Math.min(gridSize(dims), s.max_trials || Infinity) : s.max_trials;
}

/**
 * The assignment of trial `index`. Grid and random are functions of the seed and index alone, so
 * a resumed or distributed sweep tries exactly what a serial one would; TPE also looks at the
 * trials finished so far.
 */
export function assignmentFor(s: SweepConfig, dims: readonly Dimension[], index: number, finished: readonly TrialState[], maximize: boolean): Assignment {
  const rng = new Rng(deriveSeed(s.seed, `trial-${index}`));
  if (s.method === "grid") {
    const size = gridSize(dims);
    if (!s.max_trials || s.max_trials >= size) return gridPoint(dims, index - 1);
    // A sample of the grid without repeats: the first max_trials of a seeded shuffle.
    const order = new Rng(deriveSeed(s.seed, "grid")).shuffle(Array.from({ length: size }, (_, i) => i));
    return gridPoint(dims, order[index - 1]!);
  }
  if (s.method === "random") return randomPoint(dims, rng);
  const history = finished
    .filter((t) => (t.status === "completed" || t.status === "pruned") && typeof t.value === "number")
    .map((t) => ({ assignment: t.assignment, loss: maximize ? -t.value! : t.value! }));
  return suggestTpe(dims, history, rng, { startupTrials: s.startup_trials });
}

/** The sweep's own run folder (the MLflow parent) and its state, new or resumed. */
function openSweep(loaded: LoadedConfig, opts: SweepOptions, sweep: SweepConfig, fingerprint: string): { record: RunRecord; state: SweepState } {
  const runsDir = runsDirOf(loaded);
  if (opts.resume) {
    const dir = typeof opts.resume === "string" ? resolve(runsDir, opts.resume) : findUnfinished(runsDir, loaded.file);
    if (!dir) throw new UsageError(`no unfinished sweep of ${loaded.file} in ${runsDir}; run 'tlrun sweep ${loaded.file}' without --resume to start one`);
    let state: SweepState;
    try {
      state = loadState(dir);
    } catch (err) {
      throw new UsageError(`${dir} is not a sweep folder (${(err as Error).message})`);
    }
    if (state.fingerprint !== fingerprint)
      throw new UsageError(`the pipeline or its sweep block changed since sweep ${state.sweep_id} started, so its trials are not comparable; start a new sweep (without --resume), or undo the change`);
    if (state.status === "completed") throw new UsageError(`sweep ${state.sweep_id} already completed; its results are in ${dir}/sweep/`);
    for (const t of state.trials) if (t.status === "running") t.status = "pending";
    state.status = "running";
    state.resumes++;
    return { record: RunRecord.open(dir), state };
  }
  const record = new RunRecord(runsDir, `${loaded.config.name}-sweep`);
  const dims = dimensions(sweep);
  const state: SweepState = {
    version: 1, sweep_id: record.id, file: loaded.file, overrides: opts.overrides ?? [], fingerprint, method: sweep.method,
    metric: sweep.metric, maximize: maximizes(sweep), planned: plannedTrials(sweep, dims), status: "running", resumes: 0, trials: [],
  };
  return { record, state };
}

/**
 * `tlrun sweep`: run the pipeline's sweep block. The first trial runs alone, so the stages every
 * trial shares (prepare, extract for a head sweep) are computed once; the rest run `parallel` at
 * a time and take those stages from the cache. The sweep is a run folder of its own
 * (runs/<sweep-id>/), the MLflow parent of every trial, holding sweep.json for `--resume` and,
 * at the end, trials.csv, trials.png, best.json and best.yaml (the best trial's config, ready to run).
 */
export async function runSweep(file: string, opts: SweepOptions = {}): Promise<SweepOutcome> {
  const started = Date.now();
  const loaded = loadPipeline(file, { overrides: opts.overrides ?? [] });
  const sweep = loaded.config.sweep;
  if (!sweep) throw new UsageError(`${loaded.file} has no sweep: block; add one (see 'sweep' in schemas/pipeline.schema.json), or run it once with 'tlrun run'`);
  const stream = opts.stream ?? process.stderr;
  const dims = dimensions(sweep);
  const fingerprint = hashRecord({ config: loaded.config, overrides: opts.overrides ?? [] });
  // Reach the queue before writing anything, so a wrong URL leaves no half-made sweep behind.
  const conn = opts.queue ? connect(opts.queue) : undefined;
  if (conn) await ping(conn, opts.queue!);
  else await checkWeightsFetchable(weightsStatus(loaded)); // trials run here: they need the weights from here
  const { record, state } = openSweep(loaded, opts, sweep, fingerprint);
  const maximize = state.maximize;
  const warnings: string[] = [];
  const warn = (m: string): void => void warnings.push(m);
  if (/^test_|^head_test_/.test(sweep.metric)) stream.write(`tlrun: warning: choosing trials by ${sweep.metric} selects on the test split, so the best trial's test score is optimistic; prefer metric: val_accuracy\n`);

  const summary: RunSummary = {
    run_id: record.id, run_dir: record.dir, name: `${loaded.config.name}-sweep`, status: "running", backend: "",
    started_at: new Date(started).toISOString(), stages: [], metrics: {}, warnings, pid: process.pid, host: hostname(),
  };
  record.writeConfig(loaded.config);
  record.writeSummary(summary);
  saveState(record.dir, state);
  const target = targetFrom(loaded.config.tracking, loaded.config.name, record.id);
  const context = (extra: Record<string, string> = {}) => ({
    source_name: loaded.file, user: safeUser(), tlrun_version: TLRUN_VERSION,
    target: { ...target, runName: loaded.config.tracking.run_name ? `${loaded.config.tracking.run_name}-sweep` : record.id, tags: { ...target.tags, "tlrun.sweep_id": record.id, "tlrun.sweep.method": sweep.method, ...extra } },
  });
  writeContext(record.dir, context());
  const server = serverFromEnv();
  const client = server && new MlflowClient({ ...server, maxRetries: Math.min(server.maxRetries, 3) });
  const syncParent = async (): Promise<void> => {
    if (!client) return;
    try {
      await syncRun(record.dir, client);
    } catch (err) {
      warn(`mlflow: ${(err as Error).message}; send the sweep later with 'tlrun sync --all'`);
    }
  };
  // The parent is made on the server by the first trial that makes a run of its own (sync.ts,
  // linkParent), so a sweep whose every trial was cached adds no MLflow run.
  let computed = state.trials.some((t) => t.status !== "pending" && t.status !== "running"); // before a resume: assume so

  const rule: AshaRule | undefined = sweep.asha.enabled ? { minEpochs: sweep.asha.min_epochs, reductionFactor: sweep.asha.reduction_factor, maximize } : undefined;
  const rungs = new MemoryRungs(rule ?? { minEpochs: 1, reductionFactor: 2, maximize }, (trial, rung, value) => {
    const t = state.trials.find((x) => x.index === trial);
    if (t) (t.rungs[String(rung)] = value), saveState(record.dir, state);
  });
  for (const t of state.trials) for (const [r, v] of Object.entries(t.rungs)) rungs.restore(t.index, Number(r), v);

  const parallel = opts.parallel ?? sweep.parallel;
  let runner: TrialRunner;
  if (conn) runner = new QueueRunner(conn, opts.queueName ?? DEFAULT_QUEUE, `r${state.resumes}`);
  else runner = parallel > 1 ? new ProcessPoolRunner(parallel, rungs, warn) : new InProcessRunner(rungs, warn);

  const controller = new AbortController();
  const stop = (): void => controller.abort(opts.signal?.reason ?? "SIGINT");
  opts.signal?.addEventListener("abort", stop, { once: true });
  if (opts.signal?.aborted) stop();

  const specFor = (t: TrialState): TrialSpec => ({
    sweepId: record.id, sweepDir: record.dir, file: loaded.file, overrides: opts.overrides ?? [], runsDir: runsDirOf(loaded),
    index: t.index, assignment: t.assignment, backend: opts.backend, metric: sweep.metric, maximize, ...(rule ? { asha: rule } : {}),
  });
  const finished = (t: TrialState): boolean => t.status === "completed" || t.status === "pruned" || t.status === "failed";
  let bestSoFar: number | undefined = bestTrial(state)?.value ?? undefined;
  const record_ = (t: TrialState): void => {
    if (typeof t.value !== "number") return;
    const at = new Date().toISOString();
    record.appendMetrics({ type: "point", key: `trial_${sweep.metric}`, value: t.value, step: t.index, at });
    if (t.status === "completed" && (bestSoFar === undefined || (maximize ? t.value > bestSoFar : t.value < bestSoFar))) bestSoFar = t.value;
    if (bestSoFar !== undefined) record.appendMetrics({ type: "point", key: `best_${sweep.metric}`, value: bestSoFar, step: t.index, at });
  };

  // Trials are numbered from 1. A trial's assignment is fixed when it starts and kept in sweep.json.
  const trialAt = (index: number): TrialState => {
    let t = state.trials.find((x) => x.index === index);
    if (!t) {
      t = { index, assignment: assignmentFor(sweep, dims, index, state.trials, maximize), status: "pending", rungs: {} };
      state.trials.push(t);
      state.trials.sort((a, b) => a.index - b.index);
      saveState(record.dir, state);
    }
    return t;
  };
  let warmed: Promise<void> = Promise.resolve();
  const firstTodo = Array.from({ length: state.planned }, (_, i) => i + 1).find((i) => !finished(state.trials.find((x) => x.index === i) ?? ({ status: "pending" } as TrialState)));
  const noneDone = !state.trials.some((t) => t.status === "completed");
  let release: () => void = () => undefined;
  if (firstTodo !== undefined && noneDone && state.planned > 1) warmed = new Promise((r) => (release = r));

  const renderer = opts.renderer ?? (stream.isTTY && !process.env.CI ? "default" : "simple");
  const tasks = new Listr(
    Array.from({ length: state.planned }, (_, i) => i + 1).map((index) => ({
      title: `trial ${index}`,
      task: async (_: unknown, task: { title: string; output: string; skip: (m?: string) => void }) => {
        if (index !== firstTodo) await warmed;
        if (controller.signal.aborted) return task.skip(`trial ${index}: not started (interrupted)`);
        const t = trialAt(index);
        const head = `trial ${index} ${label(t.assignment)}`;
        if (finished(t)) return task.skip(`${head}: ${describe(t, sweep.metric)} (from before the resume)`);
        task.title = head;
        t.status = "running";
        saveState(record.dir, state);
        try {
          const r = await runner.run(specFor(t), (e) => {
            const line = e.type === "stage" ? `${e.stage}${e.cached ? " (cached)" : ""}` : `epoch ${e.epoch}: ${sweep.metric} ${e.value.toFixed(4)}`;
            task.output = renderer === "default" ? line : `trial ${index}: ${line}`; // outside a TTY, parallel trials' lines interleave

          }, controller.signal);
          applyResult(t, r);
          if (!trialFullyCached(r.runDir)) computed = true;
        } catch (err) {
          if (controller.signal.aborted) {
            t.status = "pending";
            saveState(record.dir, state);
            return task.skip(`${head}: interrupted; resuming the sweep runs it again`);
          }
          applyResult(t, { index, status: "failed", runId: "", runDir: "", value: null, metrics: {}, epochs: 0, seconds: 0, error: err instanceof Error ? err.message : String(err) });
        } finally {
          if (index === firstTodo) release();
        }
        saveState(record.dir, state);
        record_(t);
        // a pruned trial is marked apart from a finished one: listr's skip mark, ↓, and ✂
        if ((t.status as TrialState["status"]) === "pruned") return task.skip(renderer === "default" ? `${head}: ${describe(t, sweep.metric)}` : describe(t, sweep.metric));
        task.title = `${head}: ${describe(t, sweep.metric)}`;
      },
    })),
    {
      renderer,
      fallbackRenderer: "simple",
      concurrent: parallel,
      exitOnError: false,
      registerSignalListeners: false,
      rendererOptions: { logger: new ListrLogger({ processOutput: new ProcessOutput(stream, stream) }) } as never,
    },
  );
  try {
    await tasks.run();
  } finally {
    opts.signal?.removeEventListener("abort", stop);
    await runner.close();
  }
  const interrupted = controller.signal.aborted;
  state.status = interrupted ? "interrupted" : state.trials.length && state.trials.every((t) => t.status === "failed") ? "failed" : "completed";
  saveState(record.dir, state);
  await writeArtifacts(record.dir, state);
  const best = bestTrial(state);
  writeBestConfig(record.dir, best, sweep.metric, loaded.baseDir);
  const count = (s: TrialState["status"]): number => state.trials.filter((t) => t.status === s).length;
  summary.status = interrupted ? "interrupted" : state.status === "failed" ? "failed" : "completed";
  summary.metrics = {
    [`best_${sweep.metric}`]: best?.value ?? null, best_trial: best?.index ?? null,
    trials_completed: count("completed"), trials_pruned: count("pruned"), trials_failed: count("failed"),
  };
  summary.ended_at = new Date().toISOString();
  summary.seconds = (Date.now() - started) / 1000;
  const resume = (opts.resumeCommand ?? defaultResumeCommand(file, opts.overrides ?? []))(state.sweep_id);
  if (interrupted) summary.error = `interrupted; resume with: ${resume}`;
  record.writeSummary(summary);
  record.appendMetrics({ type: "final", ...summary.metrics, sweep_seconds: summary.seconds });
  const bestTags: Record<string, string> = best ? Object.fromEntries(Object.entries(best.assignment).map(([k, v]) => [`tlrun.best.${k}`, typeof v === "string" ? v : JSON.stringify(v)])) : {};
  writeContext(record.dir, context({ ...bestTags, ...(best?.run_id ? { "tlrun.best.run_id": best.run_id } : {}) }));
  if (client && !computed && !serverRunIdOf(record.dir, client)) {
    const why = "every trial was taken whole from the cache, so the sweep adds no MLflow run: each trial's result is in the run that computed it";
    if (!interrupted) markUnsent(record.dir, client, why); // a resumed sweep may still make one
    stream.write(`mlflow: ${why}\n`);
  } else await syncParent();
  if (interrupted) throw new InterruptedError(String(controller.signal.reason ?? "SIGINT"), resume);
  return outcome(state, record, sweep, maximize, started);
}

/** Whether a trial's run took every stage from the cache, so its result was already in MLflow (held-run.ts). Unreadable (another host's folder): no. */
function trialFullyCached(runDir: string): boolean {
  try {
    return fullyCached({ dir: runDir, summary: JSON.parse(readFileSync(join(runDir, "summary.json"), "utf8")) as RunSummary });
  } catch {
    return false;
  }
}

/** `tlrun sweep <file> --set … --resume --id <id>`: what resumes a sweep started through the API. */
const defaultResumeCommand = (file: string, overrides: readonly string[]) => (sweepId: string): string =>
  ["tlrun", "sweep", file, ...overrides.flatMap((o) => ["--set", o]), "--resume", "--id", sweepId].map(shellQuote).join(" ");

function describe(t: TrialState, metric: string): string {
  const v = typeof t.value === "number" ? `${metric} ${t.value.toFixed(4)}` : "";
  if (t.status === "pruned") return `✂ pruned after ${t.epochs} epochs ${v}`.trim();
  if (t.status === "failed") return `failed: ${t.error ?? "unknown error"}`;
  return `${v} in ${t.seconds?.toFixed(1)}s`;
}

function outcome(state: SweepState, record: RunRecord, sweep: SweepConfig, maximize: boolean, started: number): SweepOutcome {
  const best = bestTrial(state);
  return {
    sweep_id: state.sweep_id,
    sweep_dir: record.dir,
    status: state.status,
    metric: sweep.metric,
    goal: maximize ? "maximize" : "minimize",
    best: best ? { trial: best.index, params: best.assignment, value: best.value!, metrics: best.metrics ?? {}, run_id: best.run_id } : null,
    trials: state.trials.map((t) => ({ trial: t.index, params: t.assignment, status: t.status, value: t.value ?? null, metrics: t.metrics ?? {}, run_id: t.run_id, seconds: t.seconds, ...(t.error ? { error: t.error } : {}) })),
    seconds: (Date.now() - started) / 1000,
  };
}

