import { hashRecord } from "../util/hash";
import { STAGE_VERSIONS, type Plan, type StageName, type StageNode } from "./compile";

/** Facts from outside the config that a stage's output depends on. */
export interface ExternalInputs {
  /** Cheap fingerprint of the data folder (paths, sizes, mtimes); only prepare uses it. */
  datasetFingerprint: string;
  /** sha256 of the base model's weights and topology identity. */
  baseIdentity: string;
  /** tlrun's version. */
  codeVersion: string;
}

/**
 * The cache key of a stage: sha256 of a canonical record of its config slice, the digests of the
 * stages it depends on, and the code version. Returns undefined while a dependency's digest is
 * unknown (that dependency has not run yet).
 */
export function stageKey(
  node: StageNode,
  digests: ReadonlyMap<StageName, string>,
  ext: ExternalInputs,
): string | undefined {
  const inputs: Record<string, string> = {};
  for (const d of node.deps) {
    const digest = digests.get(d);
    if (!digest) return undefined;
    inputs[d] = digest;
  }
  const external: Record<string, string> = {};
  if (node.name === "prepare") external.dataset = ext.datasetFingerprint;
  if (node.name === "extract" || node.name === "unfreeze") external.base = ext.baseIdentity;
  return hashRecord({
    stage: node.name,
    version: STAGE_VERSIONS[node.name],
    code: ext.codeVersion,
    params: node.params,
    inputs,
    external,
  });
}

/** Convenience for tests: the keys of every stage, given each stage's digest equals its key. */
export function chainKeys(plan: Plan, ext: ExternalInputs): Map<StageName, string> {
  const digests = new Map<StageName, string>();
  for (const node of plan.stages) {
    const key = stageKey(node, digests, ext);
    if (key) digests.set(node.name, key);
  }
  return digests;
}
