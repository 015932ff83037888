import type { LoadedConfig } from "../config/types";
import type { StageCache } from "../cache/store";
import { readProbeResult, type ProbeResult } from "./probe-result";
import { probeDepths, topBlock } from "./strategy-depths";
import { cacheFor, resolve, type Plan, type ResolveOptions } from "./resolve";
import { describeChoice, strategyLoaded } from "./strategy-apply";
import { chooseStrategy, strategySettings, type StrategyChoice, type StrategyInput } from "./strategy-table";

/** strategy: auto's decision, once its probe is in the cache: what the run, the plan, report.json and MLflow show. */
export interface StrategyDecision {
  probe: ProbeResult;
  input: StrategyInput;
  choice: StrategyChoice;
  /** Strategy keys written in the file, which won over the choice. */
  kept: string[];
  /** The one paragraph: sizes, probe, decision, why. */
  paragraph: string;
}

/** A plan with the strategy applied: `loaded` is the config its stages run with. */
export interface StrategyPlan {
  plan: Plan;
  loaded: LoadedConfig;
  /** undefined for `strategy: explicit`; "pending" while the probe has not run (the stages after it are the file's, until it has). */
  strategy?: StrategyDecision | "pending";
}

/** The decision from a probe result; pure given the result. */
export function decide(loaded: LoadedConfig, probe: ProbeResult): { decision: StrategyDecision; loaded: LoadedConfig } {
  const block = topBlock(loaded, probe.depths);
  const input: StrategyInput = { trainImages: probe.train_images, classes: probe.classes, depths: probe.depths, ...(block ? { topBlock: block } : {}) };
  const choice = chooseStrategy(input, strategySettings(loaded.config));
  const applied = strategyLoaded(loaded, choice);
  const paragraph = describeChoice(input, choice, applied.loaded.config, applied.kept);
  return { decision: { probe, input, choice, kept: applied.kept, paragraph }, loaded: applied.loaded };
}

/**
 * Resolve a pipeline under its strategy. For `strategy: auto`, the probe's cache entry decides the
 * cut, freeze.at and fine-tune, and the plan is resolved again with them (as the explicit config
 * they make, without the probe, whose work is done), so every later key is what will run; while the probe is not cached, the plan says "pending" and `execute` resolves
 * again once the probe has run. Reads no weights, loads no TensorFlow.
 */
export function resolveStrategy(loaded: LoadedConfig, cache: StageCache = cacheFor(loaded), opts: ResolveOptions = {}): StrategyPlan {
  const first = resolve(loaded, cache, opts);
  if (strategySettings(loaded.config).mode !== "auto") return { plan: first, loaded };
  probeDepths(loaded); // a depth that names no layer is refused here, before anything runs
  const probe = first.stages.find((s) => s.name === "probe");
  if (!probe?.cached || !probe.key) return { plan: first, loaded, strategy: "pending" };
  const { decision, loaded: chosen } = decide(loaded, readProbeResult(cache.entryDir("probe", probe.key)));
  return { plan: resolve(chosen, cache, opts), loaded: chosen, strategy: decision };
}
