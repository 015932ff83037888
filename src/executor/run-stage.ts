import type { BackendInfo } from "../backend/select";
import { selectBackend } from "../backend/select";
import { CacheDamagedError } from "../cache/damage";
import type { EntryMeta } from "../cache/store";
import type { LoadedConfig } from "../config/types";
import type { StageName } from "../plan/compile";
import { dataDirOf } from "../plan/paths";
import type { Plan, PlannedStage } from "../plan/resolve";
import { loadArtifacts } from "../models/source";
import { SOURCES, STAGES } from "../stages";
import type { Stage, StageInput } from "../stages/types";
import type { EpochLogs } from "../training/callbacks";
import { removeCheckpoint } from "../training/checkpoint";
import { Eta, etaToken, TRAINING_ETA, progressLine, trainingWork, type PreviousEpoch, type Throttled } from "../util/progress";
import { collectGarbage } from "../util/memory";
import type { RunState } from "./run-state";

/** What every stage of one run shares. */
export interface RunEnv {
  loaded: LoadedConfig;
  plan: Plan;
  run: RunState;
  backend: BackendInfo;
  /** The backend was chosen by the user, not picked automatically. */
  explicit: boolean;
  force: boolean;
  checkLeaks: boolean;
  checkAbort(): void;
  /** The run was stopped by its sweep's pruning: it will not be resumed, so its checkpoints go. */
  pruned(): boolean;
  /** Digests of the stages done so far, which later keys hash. */
  digests: Map<StageName, string>;
  /** Committed outputs of the stages done so far. */
  entries: Map<StageName, StageInput>;
  /** Epochs trained by the phases so far, for the global step. */
  epochOffset: number;
}

/** How a stage ended, for the task title and the run record. */
export interface StageOutcome {
  cached: boolean;
  key: string;
  info: Record<string, unknown>;
}

/** The stage's live line: throttled, with `now` to force one through. */
type Show = Throttled;

async function withLeakCheck<T>(name: string, enabled: boolean, fn: () => Promise<T>): Promise<T> {
  if (!enabled) return fn();
  const tf = await import("@tensorflow/tfjs");
  const before = tf.memory().numTensors;
  const out = await fn();
  const after = tf.memory().numTensors;
  if (after !== before) throw new Error(`stage ${name} leaked ${after - before} tensors (${before} before, ${after} after)`);
  return out;
}

/**
 * The backend a stage runs on: the run's, except that a stage needing convolution gradients
 * moves from wasm to cpu when the backend was picked automatically.
 */
async function backendFor(stage: Stage, env: RunEnv): Promise<BackendInfo> {
  if (!stage.needsConvGrad || env.backend.canTrainConv || env.explicit) return env.backend;
  env.run.warn(`${stage.name} runs on the cpu backend: ${env.backend.name} has no convolution gradient kernels (install the native backend for speed)`);
  return selectBackend("cpu");
}

/** A source stage: build or fetch its output unless the plan found it present; its digest is the output's identity. */
async function runSource(stage: PlannedStage, env: RunEnv, show: Show): Promise<StageOutcome> {
  let status = stage.name === "dataset" ? env.plan.dataset : env.plan.weights;
  const cached = status.ready;
  if (!cached) {
    await SOURCES[stage.name as keyof typeof SOURCES].run({ loaded: env.loaded, config: env.loaded.config, dataDir: dataDirOf(env.loaded), progress: show });
    status = env.plan.probe(stage.name);
    if (!status.ready) throw new Error(`internal: the ${stage.name} stage finished but its output is not there: ${status.note}`);
  }
  env.digests.set(stage.name, status.digest!);
  return { cached, key: status.digest!, info: { note: status.note } };
}

/** Run a cached stage, or take it from the cache; waits for another process computing the same entry. */
async function runCached(stage: PlannedStage, env: RunEnv, show: Show, onWait: (line: string) => void): Promise<StageOutcome> {
  const { plan, run } = env;
  const key = plan.keyOf(stage.name, env.digests);
  if (!key) throw new Error(`internal: stage ${stage.name} ran before its inputs`);
  const t0 = performance.now();
  let found = env.force ? { hit: false as const } : plan.cache.lookup(stage.name, key);
  const lock = found.hit ? undefined : await plan.cache.lock(stage.name, key, {
    checkAbort: env.checkAbort,
    onWait: (who) => onWait(`waiting for ${who}, which is computing this stage`),
    // the entry is still committed whole (one rename); another process may compute it as well
    onLost: () => run.warn(`the lock on ${stage.name}'s cache entry was taken over as stale while this run computed it (a paused process, or a clock far off on a shared folder); the entry stays whole, another process may compute it too`),
  });
  let meta: EntryMeta;
  try {
    if (lock && !env.force) found = plan.cache.lookup(stage.name, key);
    if (!found.hit && "warning" in found && found.warning) run.warn(found.warning);
    meta = found.hit ? found.meta : await computeRepairing(stage, key, env, show, onWait, t0);
  } finally {
    lock?.release();
  }
  if (found.hit) plan.cache.markUsed(stage.name, key);
  if (found.hit) for (const e of (meta.info.history as EpochLogs[] | undefined) ?? []) run.epoch(e, true);
  env.epochOffset += (meta.info.history as unknown[] | undefined)?.length ?? 0;
  env.digests.set(stage.name, meta.digest);
  env.entries.set(stage.name, { dir: plan.cache.entryDir(stage.name, key), meta });
  return { cached: found.hit, key, info: meta.info };
}

/**
 * Compute a stage; when it finds one of its inputs' entries damaged as it reads it (a feature
 * file's block that does not match its digest), warn, move that entry aside, recompute it and run
 * the stage once more. A second damage is an error, as is damage to anything but this run's input.
 */
async function computeRepairing(stage: PlannedStage, key: string, env: RunEnv, show: Show, onWait: (line: string) => void, t0: number): Promise<EntryMeta> {
  try {
    return await compute(stage, key, env, show, t0);
  } catch (err) {
    if (!(err instanceof CacheDamagedError)) throw err;
    const input = [...env.entries].find(([, e]) => e.dir === err.dir)?.[0];
    const planned = input && env.plan.stages.find((s) => s.name === input);
    if (!planned || planned.source) throw err;
    env.run.warn(`${err.message}, found while ${stage.name} read it; moved aside and recomputing ${input}`);
    show.now(`recomputing ${input}: its cache entry is damaged`);
    await repairEntry(planned, err, env, show, onWait);
    return await compute(stage, key, env, show, performance.now());
  }
}

/** Replace a damaged input entry with a recomputed one, under its lock (another process may have done it already). */
async function repairEntry(stage: PlannedStage, damage: CacheDamagedError, env: RunEnv, show: Show, onWait: (line: string) => void): Promise<void> {
  const { plan } = env;
  const old = env.entries.get(stage.name)!;
  const lock = await plan.cache.lock(stage.name, damage.key, { checkAbort: env.checkAbort, onWait: (who) => onWait(`waiting for ${who}, which is computing ${stage.name}`) });
  let meta: EntryMeta;
  try {
    plan.cache.moveAside(stage.name, damage.key, old.meta.createdAt);
    const found = plan.cache.lookup(stage.name, damage.key);
    const offset = env.epochOffset;
    meta = found.hit ? found.meta : await compute(stage, damage.key, env, show, performance.now());
    env.epochOffset = offset;
  } finally {
    lock.release();
  }
  if (meta.digest !== old.meta.digest)
    throw new Error(`${stage.name} was recomputed after its cache entry was found damaged, but its output differs from the entry's; run the same command again`);
  env.entries.set(stage.name, { dir: old.dir, meta });
}

/** Run a stage into a temporary entry and commit it; a failure leaves the cache as it was. */
async function compute(stage: PlannedStage, key: string, env: RunEnv, show: Show, t0: number): Promise<EntryMeta> {
  const { plan, run, loaded } = env;
  const impl = STAGES[stage.name as keyof typeof STAGES];
  const stageBackend = await backendFor(impl, env);
  const tmp = plan.cache.begin(stage.name, key);
  let previous: PreviousEpoch | undefined;
  // made at the first batch, so the stage's loading and fine-tune's frozen activations are not taken for training time
  let eta: Eta | undefined;
  let batchesDone = 0;
  try {
    const result = await withLeakCheck(stage.name, env.checkLeaks, () => impl.run({
      loaded, config: loaded.config, node: stage, plan, key, out: tmp, inputs: env.entries, dataDir: dataDirOf(loaded),
      artifacts: () => loadArtifacts(loaded.config.base.model, loaded.baseDir, loaded.config.base.weights), backend: stageBackend, epochOffset: env.epochOffset,
      progress: show, note: (line) => show.now(line), warn: (m) => run.warn(m), checkAbort: env.checkAbort,
      checkpoint: { dir: plan.cache.checkpointDir(stage.name, key), resume: !env.force },
      callbacks: {
        // epochs an interrupted run finished, replayed from its checkpoint like a cache hit's history
        onEpochRestored: (e) => {
          previous = { epoch: e.epoch, valAccuracy: e.val_accuracy };
          run.epoch(e, true);
        },
        onBatchEnd: (b) => {
          const work = trainingWork(b);
          eta ??= new Eta(work.total, TRAINING_ETA);
          eta.update((batchesDone = work.done));
          show(progressLine(b, eta.seconds, previous));
        },
        onEpochEnd: (e) => {
          previous = { epoch: e.epoch, valAccuracy: e.val_accuracy };
          run.epoch(e, false);
          eta?.update(batchesDone); // the time validation took counts toward the rate, as it does in the time left
          show.now(`epoch ${e.epoch}/${e.epochs} loss ${e.loss.toFixed(4)} val_acc ${e.val_accuracy.toFixed(4)} ${e.images_per_second.toFixed(1)} img/s${e.epoch < e.epochs ? etaToken(eta?.seconds) : ""}`);
        },
      },
    }));
    const seconds = (performance.now() - t0) / 1000;
    const meta = plan.cache.commit(tmp, { stage: stage.name, key, digest: result.digest ?? key, seconds, info: result.info });
    removeCheckpoint(plan.cache.checkpointDir(stage.name, key)); // the entry holds the result now
    return meta;
  } catch (err) {
    plan.cache.abandon(tmp);
    // a checkpoint stays for the re-run of an interrupted or failed run, but no one re-runs a pruned trial
    if (env.pruned()) removeCheckpoint(plan.cache.checkpointDir(stage.name, key));
    throw err;
  } finally {
    if (stageBackend !== env.backend) await selectBackend(env.backend.name);
    collectGarbage(); // what the stage held goes back to the system before the next one allocates
  }
}

/** Run one stage of the plan (or take it from the cache / find its source present) and record it. */
export async function runStage(stage: PlannedStage, env: RunEnv, show: Show, onWait: (line: string) => void): Promise<StageOutcome> {
  env.checkAbort();
  const t0 = performance.now();
  const outcome = stage.source ? await runSource(stage, env, show) : await runCached(stage, env, show, onWait);
  env.run.stageEnd({ name: stage.name, cached: outcome.cached, seconds: (performance.now() - t0) / 1000, key: outcome.key, info: outcome.info });
  return outcome;
}
