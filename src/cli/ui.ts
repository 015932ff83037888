import { parse } from "./args";
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { EXIT } from "../errors";
import { MlflowClient } from "../tracking/client";
import { runFolders } from "../tracking/local-runs";
import { findMlflow, freePort, INSTALL_HINT, startLocalServer } from "../tracking/local-server";
import { serverFromEnv } from "../tracking/settings";
import { loadState, saveState } from "../tracking/state";
import { syncRuns } from "./sync";

export const UI_USAGE = `tlrun ui [--port N] [--runs-dir DIR] [--exit]
  the MLflow UI on 127.0.0.1, over a SQLite file in <runs-dir>/mlflow-ui/, with every local run
  synced into it first; runs until Ctrl-C (needs mlflow: 'npm run mlflow:dev' installs it once)
    --port N         the port (default: a free one)
    --runs-dir DIR   the runs folder (default ./runs)
    --exit           stop the server again right after printing its URL`;

/**
 * `tlrun ui`: the MLflow UI on 127.0.0.1 over runs/mlflow-ui/mlflow.db, with every local run
 * synced into it; runs until Ctrl-C (or, with --exit, right after printing the URL).
 */
export async function uiCommand(argv: string[]): Promise<number> {
  const { values } = parse(argv, { port: { type: "string" }, "runs-dir": { type: "string" }, exit: { type: "boolean" } }, 0, UI_USAGE);
  const bin = findMlflow();
  if (!bin) {
    process.stderr.write(`tlrun: ${INSTALL_HINT}\n`);
    return EXIT.runFailed;
  }
  const runsDir = resolve(values["runs-dir"] ?? "runs");
  const dir = join(runsDir, "mlflow-ui");
  const key = `sqlite:///${join(dir, "mlflow.db")}`;
  const fresh = !existsSync(join(dir, "mlflow.db"));
  const port = values.port ? Number(values.port) : await freePort();
  process.stderr.write(`tlrun: starting mlflow server on 127.0.0.1:${port} (${key})\n`);
  const server = await startLocalServer(bin, dir, port);
  const stop = (): void => void server.stop().then(() => process.exit(EXIT.ok));
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  const client = new MlflowClient({ ...serverFromEnv({}, server.uri)!, key });
  const runs = runFolders(runsDir);
  if (fresh) for (const r of runs) { const s = loadState(r); delete s.servers[key]; saveState(r, s); }
  const results = await syncRuns(runs, client);
  const failed = results.filter((r) => "error" in r);
  process.stderr.write(`tlrun: synced ${results.length - failed.length} of ${runs.length} runs from ${runsDir}\n`);
  for (const f of failed) process.stderr.write(`  ${f.runId}: ${(f as { error: string }).error}\n`);
  process.stdout.write(`${server.uri}\n`);
  if (values.exit) {
    await server.stop();
    return EXIT.ok;
  }
  process.stderr.write("tlrun: MLflow UI running; Ctrl-C to stop\n");
  await new Promise<void>((r) => server.child.once("exit", () => r()));
  return EXIT.ok;
}
