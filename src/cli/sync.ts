import { parse } from "./args";
import { resolve } from "node:path";
import { EXIT, UsageError } from "../errors";
import { MlflowClient } from "../tracking/client";
import { MlflowError } from "../tracking/http";
import { findRun, runFolders } from "../tracking/local-runs";
import { serverFromEnv } from "../tracking/settings";
import { syncRun, type SyncResult } from "../tracking/sync";
import { refusalLines } from "../tracking/refusals";

export const SYNC_HELP = `tlrun sync [<run-id> | --all] [--runs-dir DIR] [--uri URL] [--json]
  send a run's record in runs/<id>/ (params, metrics, artifacts, the model) to the MLflow server
  in MLFLOW_TRACKING_URI: only what the server has not acknowledged yet, so it is safe to repeat
    --all            every run in the runs folder
    --runs-dir DIR   where run ids are looked up (default ./runs)
    --uri URL        the server, instead of MLFLOW_TRACKING_URI
    --json           one JSON result per run on stdout
  exit 1 when a run could not be sent in full`;

const OPTIONS = { all: { type: "boolean" }, "runs-dir": { type: "string" }, uri: { type: "string" }, json: { type: "boolean" } } as const;

/** Sync runs to a server and return one result per run; errors per run are collected, not thrown. */
export async function syncRuns(dirs: string[], client: MlflowClient): Promise<Array<SyncResult | { runId: string; error: string }>> {
  const out: Array<SyncResult | { runId: string; error: string }> = [];
  for (const dir of dirs) {
    try {
      out.push(await syncRun(dir, client));
    } catch (e) {
      if (!(e instanceof MlflowError)) throw e;
      out.push({ runId: dir.split(/[\\/]/).pop()!, error: e.message });
    }
  }
  return out;
}

/** `tlrun sync`: replay runs/<id>/ to the MLflow server in MLFLOW_TRACKING_URI (or --uri). */
export async function syncCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, OPTIONS, { min: 0 }, SYNC_HELP);
  if (positionals.length > 1 || (positionals.length === 1) === !!values.all)
    throw new UsageError(`give one run id or --all\nusage: ${SYNC_HELP}`);
  const server = serverFromEnv(process.env, values.uri);
  if (!server) throw new UsageError("no MLflow server: set MLFLOW_TRACKING_URI=http://host:port (or pass --uri)");
  const runsDir = resolve(values["runs-dir"] ?? "runs");
  const dirs = values.all ? runFolders(runsDir) : [findRun(runsDir, positionals[0]!)];
  const results = await syncRuns(dirs, new MlflowClient(server));
  if (values.json) process.stdout.write(JSON.stringify(results) + "\n");
  for (const r of results) {
    if ("error" in r) process.stderr.write(`${r.runId}: not synced: ${r.error}\n`);
    else {
      const sent = Object.entries(r.sent).filter(([, n]) => n).map(([k, n]) => `${n} ${k}`).join(", ") || "nothing new";
      process.stderr.write(`${r.runId}: ${sent} -> run ${r.serverRunId}${r.pending ? `, ${r.pending} still pending` : ""}\n`);
      for (const n of [...new Set(r.notes)]) process.stderr.write(`  note: ${n}\n`);
      for (const x of refusalLines(r.rejected)) process.stderr.write(`  refused: ${x}\n`);
    }
  }
  return results.some((r) => "error" in r || r.pending) ? EXIT.runFailed : EXIT.ok;
}
