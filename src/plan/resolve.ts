import { resolve as resolvePath } from "node:path";
import { StageCache, type EntryMeta } from "../cache/store";
import type { LoadedConfig } from "../config/types";
import { baseShape } from "../models/source";
import { compile, SOURCE_STAGES, type CompiledPipeline, type StageName, type StageNode } from "./compile";
import { resolveFreeze, type FreezePlan } from "./freeze";
import { stageKey } from "./keys";
import { runsDirOf } from "./paths";
import { hashRecord } from "../util/hash";
import { TLRUN_VERSION } from "../util/version";
import { datasetStatus, weightsStatus, type SourceStatus } from "./sources";


/** One stage of a resolved plan: where it stands before the run. */
export interface PlannedStage extends StageNode {
  /** A source stage (dataset, weights): its output lives outside the stage cache. */
  source: boolean;
  /** The cache key, once every dependency's digest is known (for a source stage, none). */
  key?: string;
  /** A cache hit, or a source whose output is present. */
  cached: boolean;
  /** The cache entry of a hit. */
  meta?: EntryMeta;
  /** A damaged entry that will be recomputed. */
  warning?: string;
  /** What a source stage has or will fetch or build. */
  note?: string;
}

/** A pipeline resolved against its cache, its data and its base: what `plan`, `run` and `sweep` share. */
export interface Plan {
  name: string;
  stages: PlannedStage[];
  /** What fine-tuning trains; undefined without a fine-tune phase. */
  freeze?: FreezePlan;
  dataset: SourceStatus;
  weights: SourceStatus;
  cache: StageCache;
  /** The cache key of `name` given the digests of the stages before it: the one place a key is computed. */
  keyOf(name: StageName, digests: ReadonlyMap<StageName, string>): string | undefined;
  /** A source stage's status now (after it ran). */
  probe(name: StageName): SourceStatus;
  /**
   * Every stage's key, as if each stage's digest were its key (a source's: its output's identity,
   * or a stand-in while absent): equal keys across plans mean shared work, as a sweep plans it.
   */
  chainKeys(): Map<StageName, string>;
}

/**
 * Every stage's key, taking each stage's digest to be its key: a source's digest from `sources`,
 * or a stand-in from its params while it is absent. Equal keys across pipelines mean shared work.
 */
export function chainKeys(compiled: CompiledPipeline, sources: ReadonlyMap<StageName, string>, version = TLRUN_VERSION): Map<StageName, string> {
  const chain = new Map<StageName, string>();
  for (const node of compiled.stages)
    chain.set(node.name, SOURCE_STAGES.has(node.name) ? (sources.get(node.name) ?? `absent:${hashRecord(node.params)}`) : stageKey(node, chain, version)!);
  return chain;
}

export interface ResolveOptions {
  /** Every cached stage is to run again. */
  force?: boolean;
  /** Source statuses already found, shared between the plans of a sweep's trials (a data folder is walked once). */
  sources?: Map<string, SourceStatus>;
}

/**
 * The probe (strategy: auto) cuts the base at several depths itself, and the cut it decides enters
 * the weights stage's digest: its key takes the weights' identity without the cut instead, so a
 * choice, an explicit base.cut or a sweep over cuts reuses one probe.
 */
function uncutWeights(digests: ReadonlyMap<StageName, string>, loaded: LoadedConfig): ReadonlyMap<StageName, string> {
  if (!digests.has("weights")) return digests;
  const uncut = weightsStatus(loaded).uncut;
  return uncut ? new Map([...digests, ["weights", uncut]]) : digests;
}

/** The stage cache of a pipeline's runs folder. */
export function cacheFor(loaded: LoadedConfig): StageCache {
  return new StageCache(resolvePath(runsDirOf(loaded), ".cache"));
}

/**
 * Resolve a validated pipeline once: compile its stages, resolve `freeze.at` and the fine-tune's
 * layer groups from the base's topology, find where the data and the weights stand, and walk the
 * stages in order: a stage is cached when its key (from its dependencies' digests) has an entry.
 * Reads no weights, loads no TensorFlow. `force` marks every cached stage to run.
 */
export function resolve(loaded: LoadedConfig, cache: StageCache = cacheFor(loaded), opts: ResolveOptions = {}): Plan {
  const compiled = compile(loaded.config);
  const byName = new Map(compiled.stages.map((n) => [n.name, n]));
  const probe = (name: StageName): SourceStatus => (name === "dataset" ? datasetStatus(loaded) : weightsStatus(loaded));
  const remembered = (name: StageName): SourceStatus => {
    if (!opts.sources) return probe(name);
    const id = hashRecord({ name, params: byName.get(name)!.params, baseDir: loaded.baseDir });
    if (!opts.sources.has(id)) opts.sources.set(id, probe(name));
    return opts.sources.get(id)!;
  };
  const sources = new Map<StageName, SourceStatus>([...SOURCE_STAGES].map((n) => [n, remembered(n)]));
  const keyOf = (name: StageName, digests: ReadonlyMap<StageName, string>): string | undefined =>
    SOURCE_STAGES.has(name) ? undefined : stageKey(byName.get(name)!, name === "probe" ? uncutWeights(digests, loaded) : digests, TLRUN_VERSION);
  const digests = new Map<StageName, string>();
  const stages = compiled.stages.map((node): PlannedStage => {
    const source = sources.get(node.name);
    if (source) {
      if (source.ready) digests.set(node.name, source.digest!);
      return { ...node, source: true, cached: source.ready, note: source.note };
    }
    const key = keyOf(node.name, digests);
    if (!key || opts.force) return { ...node, source: false, key, cached: false };
    const found = cache.lookup(node.name, key);
    if (!found.hit) return { ...node, source: false, key, cached: false, warning: found.warning };
    digests.set(node.name, found.meta.digest);
    return { ...node, source: false, key, cached: true, meta: found.meta };
  });
  const freeze = loaded.config.train.fine_tune ? resolveFreeze(loaded.config, baseShape(loaded.config.base.model, loaded.baseDir)) : undefined;
  const present = new Map([...sources].flatMap(([n, s]) => (s.digest ? [[n, s.digest] as const] : [])));
  const chain = (): Map<StageName, string> => chainKeys(compiled, present);
  return { name: compiled.name, stages, freeze, chainKeys: chain, dataset: sources.get("dataset")!, weights: sources.get("weights")!, cache, keyOf, probe };
}
