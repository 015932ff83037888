import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { DEFAULT_RUN_NAME, placeholdersOf, renderRunName } from "../config/run-name";
import { sha256 } from "../util/hash";
import type { MlflowClient } from "./client";

/** The part of a run folder (journal.ts) a name is made from. */
type Folder = { dir: string; runId: string; config: Record<string, unknown> };

/**
 * The MLflow run name for a run folder: the template (tracking.run_name or MLFLOW_RUN_NAME, else
 * "{name}-{hash}-{n}") filled in. {n} counts the experiment's runs of the same config, so it asks
 * the server only when the template uses it.
 */
export async function runNameFor(client: MlflowClient, experimentId: string, j: Folder, template: string): Promise<string> {
  const t = template || DEFAULT_RUN_NAME;
  const file = join(j.dir, "config.resolved.yaml");
  const configSha = existsSync(file) ? sha256(readFileSync(file)) : undefined;
  const values: Record<string, string | number | undefined> = {
    name: String(j.config.name ?? j.runId), hash: configSha?.slice(0, 7), seed: j.config.seed as number | undefined, run_id: j.runId,
  };
  if (placeholdersOf(t).includes("n") && configSha)
    values.n = (await client.searchRuns([experimentId], `tags.\`tlrun.config_sha256\` = '${configSha}'`)).length + 1;
  return renderRunName(t, values);
}
