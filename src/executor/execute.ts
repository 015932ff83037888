import { selectBackend, type BackendInfo } from "../backend/select";
import type { BackendChoice, LoadedConfig } from "../config/types";
import { InterruptedError } from "../errors";
import { inferenceEngine, inferenceSetting } from "../models/engine";
import { poolSettings } from "../models/onnx/workers";
import { checkWeightsFetchable } from "../plan/fetchable";
import type { PlannedStage } from "../plan/resolve";
import { upstreamOf } from "../plan/graph";
import type { StageName } from "../plan/compile";
import { auditVerdict } from "../stages/audit-policy";
import { readProbeResult } from "../plan/probe-result";
import { decide, resolveStrategy, type StrategyDecision } from "../plan/strategy-resolve";
import { scratchDirOf } from "../plan/paths";
import { sweepScratch } from "../cache/scratch";
import type { RunSummary } from "../runs/record";
import { compiledStepWarning } from "../training/compiled-step";
import type { RunObserver } from "./observer";
import { hasEta, throttle } from "../util/progress";
import { pickRenderer, renderSteps, type RendererName } from "./render";
import { runStage, type RunEnv } from "./run-stage";
import { PRUNED, RunState } from "./run-state";

export { PRUNED } from "./run-state";
export type { RendererName } from "./render";

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
  /** The command that resumes this run, recorded and printed when it is interrupted. */
  resumeCommand?: string;
  /** Run only this stage and what it depends on (`tlrun audit`); the run record holds what they wrote. */
  until?: StageName;
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
 * A stage's failure as the task tree shows it: "interrupted", or the first line of the message
 * (a multi-line message, such as the offline-weights paragraph, would otherwise print twice).
 */
class ShortFailure extends Error {
  /** `stage` leads the line: on a terminal the tree shows the message in place of the stage's title. */
  constructor(stage: string, override readonly cause: unknown) {
    const first = cause instanceof InterruptedError ? "interrupted" : (cause instanceof Error ? cause.message : String(cause)).split("\n")[0]!;
    super(`${stage}: ${first.length > 160 ? `${first.slice(0, 157)}...` : first}`);
  }
}

/** The plan's stages up to `until` (it and what it depends on), or all of them. */
function stagesUntil(stages: PlannedStage[], until: StageName | undefined): PlannedStage[] {
  if (!until) return stages;
  const needed = upstreamOf(stages, until).add(until);
  return stages.filter((s) => needed.has(s.name));
}

/** strategy: auto's decision as the run record keeps it (summary.json, report.json, MLflow tags). */
function strategyRecord(d: StrategyDecision): Record<string, unknown> {
  const { choice } = d;
  return {
    mode: "auto", size: choice.size, similarity: choice.similarity, per_class: Math.round(choice.perClass),
    cut: choice.cut, ...(choice.headDepths ? { head_depths: choice.headDepths } : {}), fine_tune: choice.fineTune.run, fine_tune_from: choice.fineTune.from, kept: d.kept,
    probe: d.probe.depths.map((p) => ({ layer: p.layer, accuracy: p.accuracy })), probe_shape: d.probe.shape, reason: d.paragraph,
  };
}

/**
 * Run a validated pipeline: resolve its plan, then each stage in order, either found (a cache
 * hit, a present source) or run and committed atomically. Records the run under runs/<run-id>/
 * and returns its summary; throws after recording a failed or interrupted run.
 */
export async function execute(loaded: LoadedConfig, opts: ExecuteOptions = {}): Promise<RunSummary> {
  // settings the stages read from the environment, refused before a run record exists
  inferenceSetting();
  poolSettings();
  const stream = opts.stream ?? process.stderr;
  const renderer = pickRenderer(stream, opts.renderer);
  const resolved = resolveStrategy(loaded, undefined, { force: opts.force });
  let plan = resolved.plan;
  await checkWeightsFetchable(plan.weights); // offline without the weights: stop before a run record exists
  plan.cache.sweepTemporaries();
  sweepScratch(scratchDirOf(loaded)); // fine-tune scratch of runs killed with -9
  const run = new RunState(resolved.loaded, opts.observers ?? [], opts.sweep);
  let decision = resolved.strategy === "pending" ? undefined : resolved.strategy;
  let failure: unknown;
  try {
    const choice = opts.backend ?? loaded.config.runtime.backend;
    const backend = await selectBackend(choice);
    run.summary.backend = backend.name;
    for (const line of pinWarnings(backend)) {
      run.warn(line);
      if (renderer !== "silent") stream.write(`warning: ${line}\n`);
    }
    const env: RunEnv = {
      loaded: resolved.loaded, plan, run, backend, explicit: choice !== "auto", force: opts.force ?? false, checkLeaks: opts.checkLeaks ?? false,
      checkAbort: () => {
        if (opts.signal?.aborted) throw new InterruptedError(String(opts.signal.reason ?? "SIGINT"), opts.resumeCommand);
      },
      pruned: () => opts.signal?.aborted === true && opts.signal.reason === PRUNED,
      digests: new Map(), entries: new Map(), epochOffset: 0,
    };
    const steps = (stages: PlannedStage[]) => stages.map((stage) => ({
      title: stage.name,
      run: async (view: { title: string; output: string }) => {
        const show = throttle((line) => (view.output = line), renderer === "default" ? 100 : 5000, { promptly: hasEta });
        const outcome = await runStage(stage, env, show, (line) => (view.output = line)).catch((err: unknown) => {
          // the tree marks the stage with one short line; the full message is printed once, at the end
          throw new ShortFailure(stage.name, err);
        });
        if (outcome.cached) view.title = `${stage.name} (${stage.source ? "present" : "cached"})`;
        if (stage.name === "audit") {
          // the policy applies to a cached audit too; the run keeps what it found even when it stops here
          run.keepAudit(env.entries.get("audit")!.dir);
          const verdict = auditVerdict(env.loaded, outcome.info, run.record.dir);
          view.title = `${verdict.title}${outcome.cached ? " (cached)" : ""}`;
          for (const w of verdict.warnings) run.warn(w);
          if (verdict.error) throw new ShortFailure(stage.name, verdict.error);
        }
        else if (Number(outcome.info.resumed_after_epoch) > 0) view.title = `${stage.name} (resumed after epoch ${outcome.info.resumed_after_epoch}, from a checkpoint)`;
      },
    }));
    let rest = stagesUntil(plan.stages, opts.until);
    // strategy: auto without a cached probe: run up to the probe, decide, and resolve the rest with the choice
    // (`tlrun audit`, which stops before training, reads the features at the file's own cut and decides nothing)
    if (resolved.strategy === "pending" && !opts.until) {
      const upTo = plan.stages.findIndex((s) => s.name === "probe");
      await renderSteps(steps(plan.stages.slice(0, upTo + 1)), renderer, stream);
      const decided = decide(loaded, readProbeResult(env.entries.get("probe")!.dir));
      decision = decided.decision;
      plan = resolveStrategy(decided.loaded, plan.cache, { force: opts.force }).plan;
      Object.assign(env, { plan, loaded: decided.loaded });
      run.record.writeConfig(decided.loaded.config);
      env.digests.set("weights", plan.weights.digest!); // the weights' identity covers the cut, which the choice may change
      rest = plan.stages.filter((s) => !env.digests.has(s.name));
    }
    if (decision) {
      run.strategy(strategyRecord(decision));
      if (renderer !== "silent") stream.write(`strategy: ${decision.paragraph}\n`);
    }
    await renderSteps(steps(rest), renderer, stream);
    const evaluated = env.entries.get("evaluate");
    const audit = env.entries.get("audit");
    // the audit's manifest is the one training used when a drop policy left images out
    if (evaluated) run.keepOutputs(evaluated.dir, (audit && audit.meta.digest !== audit.meta.key ? audit : env.entries.get("prepare")!).dir);
    else run.keepManifest(env.entries.get("prepare")!.dir);
  } catch (err) {
    failure = err instanceof ShortFailure ? err.cause : err ?? new Error("undefined thrown");
  } finally {
    const rethrow = run.settle(failure, opts.signal);
    await run.end();
    if (rethrow) throw rethrow;
  }
  return run.summary;
}
