import { existsSync } from "node:fs";
import { Listr, ListrLogger, ProcessOutput } from "listr2";
import { join } from "node:path";
import { hostname } from "node:os";
import { selectBackend, type BackendInfo } from "../backend/select";
import type { BackendChoice, LoadedConfig } from "../config/types";
import { compile, type StageName } from "../dag/compile";
import { stageKey } from "../dag/keys";
import { InterruptedError, TlrunError } from "../errors";
import { loadArtifacts, prepareBase } from "../models/source";
import { progressPrinter } from "../models/weights/progress";
import { RunRecord, type RunSummary } from "../runs/record";
import { STAGES } from "../stages";
import { ensureBuiltinData } from "../stages/prepare";
import type { Stage, StageInput } from "../stages/types";
import type { EpochLogs } from "../training/callbacks";
import type { EntryMeta } from "../cache/store";
import { cacheFor, externalInputs } from "./status";
import { dataDirOf, runsDirOf } from "./paths";
import { progressLine, throttle } from "./progress";
import { summaryMetrics } from "./summary";
import { Observers, type RunObserver } from "./observer";
import { inferenceEngine, inferenceSetting } from "../models/engine";
import { poolSettings } from "../models/onnx/workers";
import { compiledStepWarning } from "../training/compiled-step";

export type RendererName = "default" | "simple" | "silent";

export interface ExecuteOptions {
  /** Re-run every stage, ignoring the cache. */
  force?: boolean;
  /** Overrides `runtime.backend`. */
  backend?: BackendChoice;
  renderer?: RendererName;
  /** Where the task tree goes; stderr when stdout carries JSON. */
  stream?: NodeJS.WriteStream;
  /** Aborting stops the run between batches; completed stages stay cached. */
  signal?: AbortSignal;
  /** Followers of the run, such as the MLflow tracker. */
  observers?: RunObserver[];
  /** Fail a stage that leaves more tensors allocated than it found (tfjs' expectNoLeakedTensors). */
  checkLeaks?: boolean;
  /** The sweep and trial this run belongs to, recorded in its summary. */
  sweep?: { id: string; trial: number };
}

/** The abort reason a sweep gives a trial that ASHA stops: the run ends as `pruned`, not interrupted. */
export const PRUNED = "pruned";

async function withLeakCheck<T>(name: string, enabled: boolean | undefined, fn: () => Promise<T>): Promise<T> {
  if (!enabled) return fn();
  const tf = await import("@tensorflow/tfjs");
  const before = tf.memory().numTensors;
  const out = await fn();
  const after = tf.memory().numTensors;
  if (after !== before) throw new Error(`stage ${name} leaked ${after - before} tensors (${before} before, ${after} after)`);
  return out;
}

function pickRenderer(opts: ExecuteOptions, stream: NodeJS.WriteStream): RendererName {
  if (opts.renderer) return opts.renderer;
  return stream.isTTY && !process.env.CI ? "default" : "simple";
}

/**
 * The backend a stage runs on: the run's, except that a stage needing convolution gradients
 * moves from wasm to cpu when the backend was picked automatically.
 */
async function backendFor(stage: Stage, backend: BackendInfo, explicit: boolean, warn: (m: string) => void): Promise<BackendInfo> {
  if (!stage.needsConvGrad || backend.canTrainConv || explicit) return backend;
  warn(`${stage.name} runs on the cpu backend: ${backend.name} has no convolution gradient kernels (install the native backend for speed)`);
  return selectBackend("cpu");
}

/**
 * One line for each compiled path that runs eagerly because a pinned package with a private API
 * (tfjs-node, onnxruntime-node) is installed at another version or without a member it uses.
 */
function pinWarnings(backend: BackendInfo): string[] {
  if (backend.tfBackend !== "tensorflow") return []; // neither compiles on another backend
  return [inferenceEngine().warning, compiledStepWarning()].filter((l): l is string => l !== undefined);
}

/**
 * Run a validated pipeline: every stage in plan order, each either a cache hit or run and
 * committed atomically. Records the run under runs/<run-id>/ and returns its summary; throws
 * after recording a failed or interrupted run.
 */
export async function execute(loaded: LoadedConfig, opts: ExecuteOptions = {}): Promise<RunSummary> {
  const { config } = loaded;
  // settings the stages read from the environment, refused before a run record exists rather
  // than when the extract stage starts
  inferenceSetting();
  poolSettings();
  const started = Date.now();
  const stream = opts.stream ?? process.stderr;
  const renderer = pickRenderer(opts, stream);
  const cache = cacheFor(loaded);
  cache.sweepTemporaries();
  const record = new RunRecord(runsDirOf(loaded), config.name);
  record.writeConfig(config);
  const summary: RunSummary = {
    run_id: record.id, run_dir: record.dir, name: config.name, status: "running", backend: "",
    started_at: new Date(started).toISOString(), stages: [], metrics: {}, warnings: [], pid: process.pid, host: hostname(),
    ...(opts.sweep ? { sweep: opts.sweep } : {}),
  };
  record.writeSummary(summary);
  const observers = new Observers(opts.observers ?? [], (m) => void summary.warnings.push(m));
  observers.emit("onRunStart", { record, summary, loaded });
  const infos = new Map<StageName, Record<string, unknown>>();
  try {
    const choice = opts.backend ?? config.runtime.backend;
    const explicit = choice !== "auto";
    const backend: BackendInfo = await selectBackend(choice);
    summary.backend = backend.name;
    for (const line of pinWarnings(backend)) {
      summary.warnings.push(line);
      if (renderer !== "silent") stream.write(`warning: ${line}\n`);
    }
    // Build a built-in dataset first, so prepare's key fingerprints the real files: otherwise
    // the first run would key prepare on a missing folder and the second would not match it.
    await ensureBuiltinData({ config, dataDir: dataDirOf(loaded), progress: (line) => void stream.write(`${line}\n`) });
    // Fetch and convert keras.applications weights before any stage needs them, with progress.
    await prepareBase(config.base.model, loaded.baseDir, config.base.weights, progressPrinter(config.base.model, stream));
    const ext = externalInputs(loaded);
    const plan = compile(config);
    const digests = new Map<StageName, string>();
    const entries = new Map<StageName, StageInput>();
    let epochOffset = 0;
    const checkAbort = (): void => {
      if (opts.signal?.aborted) throw new InterruptedError(String(opts.signal.reason ?? "SIGINT"));
    };
    const journalEpoch = (logs: EpochLogs, cached: boolean): void => {
      record.appendMetrics({ type: "epoch", cached, ...logs });
      observers.emit("onEpochEnd", { ...logs, cached });
    };
    const warn = (msg: string): void => void summary.warnings.push(msg);
    const tasks = new Listr(
      plan.stages.map((node) => ({
        title: node.name,
        task: async (_: unknown, task: { title: string; output: string }) => {
          checkAbort();
          const t0 = performance.now();
          const key = stageKey(node, digests, ext)!;
          let found = opts.force ? { hit: false as const } : cache.lookup(node.name, key);
          // Another process (a sweep worker) may be computing the same entry: wait for it, then look again.
          const lock = found.hit ? undefined : await cache.lock(node.name, key, { checkAbort, onWait: (who) => (task.output = `waiting for ${who}, which is computing this stage`) });
          let meta: EntryMeta;
          try {
            if (lock && !opts.force) found = cache.lookup(node.name, key);
            if (!found.hit && "warning" in found && found.warning) warn(found.warning);
            if (found.hit) {
              meta = found.meta;
              task.title = `${node.name} (cached)`;
            } else {
              const stageBackend = await backendFor(STAGES[node.name], backend, explicit, warn);
              const tmp = cache.begin(node.name, key);
              let lastVal: number | undefined;
              const show = throttle((line: string) => (task.output = line), renderer === "default" ? 100 : 5000);
              try {
                const result = await withLeakCheck(node.name, opts.checkLeaks, () => STAGES[node.name].run({
                  loaded, config, node, key, out: tmp, inputs: entries, dataDir: dataDirOf(loaded),
                  artifacts: () => loadArtifacts(config.base.model, loaded.baseDir, config.base.weights), backend: stageBackend, epochOffset,
                  progress: show, warn, checkAbort,
                  callbacks: {
                    onBatchEnd: (b) => show(progressLine(b, lastVal)),
                    onEpochEnd: (e) => {
                      lastVal = e.val_accuracy;
                      journalEpoch(e, false);
                      show.now(`epoch ${e.epoch}/${e.epochs} loss ${e.loss.toFixed(4)} val_acc ${e.val_accuracy.toFixed(4)} ${e.images_per_second.toFixed(1)} img/s`);
                    },
                  },
                }));
                const seconds = (performance.now() - t0) / 1000;
                meta = cache.commit(tmp, { stage: node.name, key, digest: result.digest ?? key, seconds, info: result.info });
              } catch (err) {
                cache.abandon(tmp);
                throw err;
              } finally {
                if (stageBackend !== backend) await selectBackend(backend.name);
              }
            }
          } finally {
            lock?.release();
          }
          if (found.hit) for (const e of (meta.info.history as EpochLogs[] | undefined) ?? []) journalEpoch(e, true);
          epochOffset += (meta.info.history as unknown[] | undefined)?.length ?? 0;
          digests.set(node.name, meta.digest);
          entries.set(node.name, { dir: cache.entryDir(node.name, key), meta });
          infos.set(node.name, meta.info);
          const stageEvent = { name: node.name, cached: found.hit, seconds: (performance.now() - t0) / 1000, key };
          summary.stages.push(stageEvent);
          record.writeSummary(summary);
          observers.emit("onStageEnd", { ...stageEvent, info: meta.info });
        },
      })),
      {
        renderer,
        fallbackRenderer: "simple",
        exitOnError: true,
        registerSignalListeners: false,
        rendererOptions: { logger: new ListrLogger({ processOutput: new ProcessOutput(stream, stream) }) } as never,
      },
    );
    await tasks.run();
    const evaluated = entries.get("evaluate")!;
    record.copyIn(join(evaluated.dir, "model"), "model");
    record.copyIn(join(evaluated.dir, "report.json"), "report.json");
    // figures a stage draws (attention maps) join the run's plots, uploaded as artifacts
    if (existsSync(join(evaluated.dir, "plots"))) record.copyIn(join(evaluated.dir, "plots"), "plots");
    record.copyIn(join(entries.get("prepare")!.dir, "manifest.json"), "manifest.json");
    summary.status = "completed";
  } catch (err) {
    const pruned = err instanceof InterruptedError && opts.signal?.reason === PRUNED;
    summary.status = pruned ? "pruned" : err instanceof InterruptedError ? "interrupted" : "failed";
    if (!pruned) {
      summary.error = err instanceof Error ? err.message : String(err);
      throw err instanceof TlrunError || err instanceof Error ? err : new Error(String(err));
    }
  } finally {
    Object.assign(summary, summaryMetrics(infos));
    summary.ended_at = new Date().toISOString();
    summary.seconds = (Date.now() - started) / 1000;
    record.writeSummary(summary);
    if (summary.status === "completed") record.appendMetrics({ type: "final", ...summary.metrics });
    await observers.end(summary, record);
  }
  return summary;
}
