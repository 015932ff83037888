import { hashRecord } from "../util/hash";
import { STAGE_VERSIONS, type StageName, type StageNode } from "./compile";

/**
 * The cache key of a stage: sha256 of a canonical record of its config slice, the digests of the
 * stages it depends on (the dataset and weights stages stand for what comes from outside the
 * config), and the code version. Undefined while a dependency's digest is unknown (that
 * dependency has not run yet). Only the resolver (resolve.ts) calls it.
 */
export function stageKey(node: StageNode, digests: ReadonlyMap<StageName, string>, codeVersion: string): string | undefined {
  const inputs: Record<string, string> = {};
  for (const d of node.deps) {
    const digest = digests.get(d);
    if (!digest) return undefined;
    inputs[d] = digest;
  }
  return hashRecord({ stage: node.name, version: STAGE_VERSIONS[node.name], code: codeVersion, params: node.params, inputs });
}
