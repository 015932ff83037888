import { resolve } from "node:path";
import { StageCache, type EntryMeta } from "../cache/store";
import { datasetFingerprint } from "../cache/fingerprint";
import type { LoadedConfig } from "../config/types";
import { compile, type Plan, type StageName } from "../dag/compile";
import { stageKey, type ExternalInputs } from "../dag/keys";
import { baseShape, describeBase } from "../models/source";
import { resolveCut } from "../models/layers";
import { hashRecord } from "../util/hash";
import { dataDirOf, runsDirOf } from "./paths";

export const TLRUN_VERSION: string = require("../../../package.json").version;

/** Where a stage stands before a run: cached (with its entry) or to run. */
export interface StageStatus {
  name: StageName;
  key?: string;
  cached: boolean;
  meta?: EntryMeta;
  warning?: string;
}

export function externalInputs(loaded: LoadedConfig): ExternalInputs {
  const c = loaded.config;
  const shape = baseShape(c.base.model, loaded.baseDir);
  const d = describeBase(c.base.model, c.base.weights, loaded.baseDir);
  return {
    datasetFingerprint: datasetFingerprint(dataDirOf(loaded)),
    baseIdentity: hashRecord({ weights: d.weightsId, cut: shape.graph ? "graph" : resolveCut(shape, c.base.cut), topology: hashRecord(shape.graph?.modelTopology ?? shape.topology) }),
    codeVersion: TLRUN_VERSION,
  };
}

export function cacheFor(loaded: LoadedConfig): StageCache {
  return new StageCache(resolve(runsDirOf(loaded), ".cache"));
}

/** Walk the plan: each stage is cached when its key (from its inputs' digests) has an entry. */
export function planStatus(loaded: LoadedConfig, opts: { force?: boolean } = {}): { plan: Plan; stages: StageStatus[] } {
  const plan = compile(loaded.config);
  const cache = cacheFor(loaded);
  const ext = externalInputs(loaded);
  const digests = new Map<StageName, string>();
  const stages = plan.stages.map((node): StageStatus => {
    const key = stageKey(node, digests, ext);
    if (!key || opts.force) return { name: node.name, key, cached: false };
    const found = cache.lookup(node.name, key);
    if (!found.hit) return { name: node.name, key, cached: false, warning: found.warning };
    digests.set(node.name, found.meta.digest);
    return { name: node.name, key, cached: true, meta: found.meta };
  });
  return { plan, stages };
}
