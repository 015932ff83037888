import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { loadConfig } from "../config";
import type { EntryMeta } from "../cache/store";
import type { LoadedConfig } from "../config/types";
import type { StageName } from "../plan/compile";
import { cacheFor } from "../plan/resolve";
import { resolveStrategy } from "../plan/strategy-resolve";
import type { SourceStatus } from "../plan/sources";
import { randomPoint, dimensions, toOverrides } from "./space";
import { Rng, deriveSeed } from "../util/rng";
import { assignmentFor, maximizes, plannedTrials } from "./run";

export interface SweepStagePlan {
  name: StageName;
  /** Distinct outputs the sweep needs: 1 when every trial shares the stage. */
  runs: number;
  /** Of those, already in the cache. */
  cached: number;
  /** Seconds one run of the stage took before, if the cache remembers; null when unknown. */
  seconds: number | null;
}

export interface SweepPlan {
  method: string;
  trials: number;
  parallel: number;
  metric: string;
  goal: "maximize" | "minimize";
  asha: number[] | null;
  stages: SweepStagePlan[];
  /** Stage runs the sweep does, against the same trials run as separate pipelines. */
  stage_runs: number;
  separate_stage_runs: number;
  /** Rough wall time from earlier stage timings (before ASHA pruning), or null. */
  estimated_seconds: number | null;
  separate_seconds: number | null;
  /** True when trial values come from a model of results (tpe), so the shown ones stand in. */
  sampled: boolean;
}

/** The newest recorded duration of a stage in this cache, from any entry. */
function lastSeconds(root: string, stage: string): number | null {
  const dir = join(root, stage);
  if (!existsSync(dir)) return null;
  let best: { at: number; seconds: number } | undefined;
  for (const name of readdirSync(dir)) {
    const meta = join(dir, name, "meta.json");
    if (!existsSync(meta)) continue;
    try {
      const m = JSON.parse(readFileSync(meta, "utf8")) as EntryMeta;
      const at = statSync(meta).mtimeMs;
      if (!best || at > best.at) best = { at, seconds: m.seconds };
    } catch {
      // a damaged entry says nothing about timing
    }
  }
  return best ? best.seconds : null;
}

/**
 * What a sweep will do, without running anything: its trials' stage keys grouped, so the output
 * shows which stages all trials share (computed once) and which each trial runs, with a cost
 * estimate from the cache's earlier timings. TPE trials after the random start-up depend on
 * results, so random points stand in for them; which stages they share does not change.
 */
export function planSweep(loaded: LoadedConfig, overrides: string[]): SweepPlan {
  const sweep = loaded.config.sweep!;
  const dims = dimensions(sweep);
  const maximize = maximizes(sweep);
  const trials = plannedTrials(sweep, dims);
  const shown = Math.min(trials, 200);
  const keys = new Map<StageName, Set<string>>();
  const cachedKeys = new Map<StageName, Set<string>>();
  let order: StageName[] = [];
  let maxEpochs = 0;
  const cache = cacheFor(loaded);
  const sources = new Map<string, SourceStatus>();
  for (let i = 1; i <= shown; i++) {
    const a = sweep.method === "tpe" && i > sweep.startup_trials ? randomPoint(dims, new Rng(deriveSeed(sweep.seed, `trial-${i}`))) : assignmentFor(sweep, dims, i, [], maximize);
    const trial = loadConfig(loaded.file, { overrides: [...overrides, ...toOverrides(a)], skipSweep: true });
    const c = trial.config;
    maxEpochs = Math.max(maxEpochs, c.train.head.epochs + (c.train.fine_tune?.epochs ?? 0));
    const plan = resolveStrategy(trial, cache, { sources }).plan; // strategy: auto decided from a cached probe, as each trial will be
    order = plan.stages.filter((s) => !s.source).map((s) => s.name); // the data and weights are shared by every trial
    const chain = plan.chainKeys();
    for (const s of plan.stages) {
      const k = chain.get(s.name)!;
      if (!keys.has(s.name)) keys.set(s.name, new Set()), cachedKeys.set(s.name, new Set());
      keys.get(s.name)!.add(k);
      if (s.cached) cachedKeys.get(s.name)!.add(k);
    }
  }
  const scale = trials / shown;
  const root = cache.root;
  const stages: SweepStagePlan[] = order.map((name) => {
    const n = keys.get(name)!.size;
    const runs = n === 1 ? 1 : Math.round(n * scale);
    return { name, runs, cached: Math.min(runs, cachedKeys.get(name)!.size), seconds: lastSeconds(root, name) };
  });
  const known = stages.every((s) => s.seconds !== null);
  const parallel = sweep.parallel;
  const estimate = known ? stages.reduce((t, s) => t + ((s.runs - s.cached) * s.seconds!) / (s.runs > 1 ? parallel : 1), 0) : null;
  const separate = known ? stages.reduce((t, s) => t + trials * s.seconds!, 0) : null;
  const firstRung = sweep.asha.enabled ? sweep.asha.min_epochs : 0;
  const rungs: number[] = [];
  for (let r = firstRung; firstRung && r < maxEpochs; r *= sweep.asha.reduction_factor) rungs.push(r);
  return {
    method: sweep.method, trials, parallel, metric: sweep.metric, goal: maximize ? "maximize" : "minimize", asha: sweep.asha.enabled ? rungs : null,
    stages, stage_runs: stages.reduce((t, s) => t + s.runs, 0), separate_stage_runs: trials * stages.length,
    estimated_seconds: estimate, separate_seconds: separate, sampled: sweep.method === "tpe" && trials > sweep.startup_trials,
  };
}

const minutes = (s: number): string => (s < 90 ? `${Math.round(s)} s` : `${(s / 60).toFixed(1)} min`);

export function formatSweepPlan(p: SweepPlan): string {
  const lines = [`sweep: ${p.method}, ${p.trials} trials, ${p.parallel} at a time, by ${p.metric} (${p.goal})${p.asha ? `, ASHA at epochs ${p.asha.join(", ")}` : ""}`];
  for (const s of p.stages) {
    const share = s.runs === 1 ? `shared by all ${p.trials} trials` : s.runs === p.trials ? "one per trial" : `${s.runs} distinct outputs`;
    const cached = s.cached === s.runs ? "cached" : s.cached ? `${s.cached} cached` : "to run";
    lines.push(`  ${s.name.padEnd(11)} ${String(s.runs).padStart(4)} run(s)  ${share}, ${cached}${s.seconds !== null ? `, ~${s.seconds.toFixed(1)} s each` : ""}`);
  }
  lines.push(`  ${p.stage_runs} stage runs instead of ${p.separate_stage_runs} for ${p.trials} separate runs`);
  if (p.estimated_seconds !== null && p.separate_seconds !== null)
    lines.push(`  estimated ${minutes(p.estimated_seconds)} (separate runs: ${minutes(p.separate_seconds)}), from earlier stage timings${p.asha ? "; ASHA pruning makes it shorter" : ""}`);
  else lines.push("  no earlier stage timings in the cache to estimate from; run the pipeline once ('tlrun run') for an estimate");
  if (p.sampled) lines.push("  (tpe picks later trials from earlier results; random points stand in for them here)");
  return lines.join("\n") + "\n";
}
