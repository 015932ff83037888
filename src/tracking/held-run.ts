import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { RunSummary } from "../runs/record";
import { sha256 } from "../util/hash";
import type { MlflowClient } from "./client";

/**
 * A fully cached re-run recomputes nothing, so it adds no MLflow run: the run that computed the
 * result already holds it. "Fully cached" means the run completed with every stage taken from the
 * cache (or present, for the two sources); "the same result" means the same resolved config and the
 * same stage keys, which `tlrun.result_key` (set on every completed run) fingerprints.
 */

/** The part of a run folder (journal.ts) this reads. */
type Folder = { dir: string; summary: RunSummary };

/** The MLflow run that already holds a fully cached run's result. */
export interface HeldBy {
  run_id: string;
  experiment_id: string;
  run_name?: string;
  /** The local run id that run was made from. */
  tlrun_run_id?: string;
}

/** Fingerprint of what a completed run computed: its resolved config and every stage's cache key. */
export function resultKey(j: Folder): string | undefined {
  if (j.summary.status !== "completed" || !j.summary.stages.length || j.summary.stages.some((s) => !s.key)) return undefined;
  const config = join(j.dir, "config.resolved.yaml");
  if (!existsSync(config)) return undefined;
  const stages = j.summary.stages.map((s) => `${s.name}=${s.key}`).join("\n");
  return sha256(`${sha256(readFileSync(config))}\n${stages}`).slice(0, 32);
}

export const fullyCached = (j: Folder): boolean => j.summary.status === "completed" && j.summary.stages.length > 0 && j.summary.stages.every((s) => s.cached);

/** The oldest FINISHED run in the experiment with this run's result key, if any. */
export async function findHolder(client: MlflowClient, experimentId: string, j: Folder): Promise<HeldBy | undefined> {
  const key = resultKey(j);
  if (!key) return undefined;
  const runs = await client.searchRuns([experimentId], `tags.\`tlrun.result_key\` = '${key}' and attributes.status = 'FINISHED'`);
  const tag = (r: (typeof runs)[number], k: string) => r.data?.tags?.find((t) => t.key === k)?.value;
  const first = runs.sort((a, b) => Number(a.info.start_time ?? 0) - Number(b.info.start_time ?? 0))[0];
  if (!first) return undefined;
  return { run_id: first.info.run_id, experiment_id: experimentId, run_name: first.info.run_name, tlrun_run_id: tag(first, "tlrun.run_id") };
}

/** A run's page in the MLflow UI, credentials left out of the address. */
export function runPageUrl(serverUri: string, experimentId: string, runId: string): string | undefined {
  try {
    const u = new URL(serverUri);
    u.username = u.password = "";
    return `${u.toString().replace(/\/+$/, "")}/#/experiments/${experimentId}/runs/${runId}`;
  } catch {
    return undefined;
  }
}

/** What the terminal says instead of logging a fully cached run. */
export function heldNote(h: HeldBy, serverUri: string): string {
  const name = h.run_name && h.run_name !== h.run_id ? `'${h.run_name}' ` : "";
  const local = h.tlrun_run_id && h.tlrun_run_id !== h.run_name ? `, made by local run ${h.tlrun_run_id}` : "";
  return `every stage was cached, so no new MLflow run: run ${name}(${runPageUrl(serverUri, h.experiment_id, h.run_id) ?? h.run_id}${local}) already holds this result`;
}
