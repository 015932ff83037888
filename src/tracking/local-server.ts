import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, openSync } from "node:fs";
import { createServer } from "node:net";
import { homedir } from "node:os";
import { join } from "node:path";

/** The MLflow version scripts/mlflow/setup.mjs installs. */
export const MLFLOW_VERSION = "3.17.2";

/** The `mlflow` executable: TLRUN_MLFLOW_BIN, tlrun's venv, or one on PATH; undefined if none. */
export function findMlflow(): string | undefined {
  const venv = process.env.TLRUN_MLFLOW_VENV || join(homedir(), ".cache", "tlrun", `mlflow-${MLFLOW_VERSION}`);
  for (const c of [process.env.TLRUN_MLFLOW_BIN, join(venv, "bin", "mlflow")]) if (c && existsSync(c)) return c;
  const r = spawnSync("mlflow", ["--version"], { encoding: "utf8" });
  return r.status === 0 ? "mlflow" : undefined;
}

export const INSTALL_HINT = `mlflow is not installed. Install it once with 'npm run mlflow:dev' (a virtualenv under ~/.cache/tlrun), or 'pip install mlflow==${MLFLOW_VERSION}'`;

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface LocalServer {
  uri: string;
  child: ChildProcess;
  /** Stop the server and its workers. */
  stop(): Promise<void>;
}

/**
 * Start `mlflow server` on 127.0.0.1 over a SQLite file and an artifact folder in `dir`, with
 * artifacts proxied, and wait until /health answers.
 */
export async function startLocalServer(bin: string, dir: string, port: number, timeoutSeconds = 180): Promise<LocalServer> {
  mkdirSync(dir, { recursive: true });
  const log = openSync(join(dir, "server.log"), "a");
  const child = spawn(bin, ["server", "--host", "127.0.0.1", "--port", String(port), "--workers", "1",
    "--backend-store-uri", `sqlite:///${join(dir, "mlflow.db")}`, "--artifacts-destination", join(dir, "artifacts")],
  { detached: true, stdio: ["ignore", log, log] });
  const uri = `http://127.0.0.1:${port}`;
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((r) => child.once("exit", () => r()));
    try {
      process.kill(-child.pid!, "SIGTERM");
    } catch {
      return;
    }
    const t = setTimeout(() => { try { process.kill(-child.pid!, "SIGKILL"); } catch { /* gone */ } }, 10_000);
    await exited;
    clearTimeout(t);
  };
  const deadline = Date.now() + timeoutSeconds * 1000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`mlflow server exited with code ${child.exitCode}; see ${join(dir, "server.log")}`);
    try {
      if ((await fetch(`${uri}/health`, { signal: AbortSignal.timeout(2000) })).ok) return { uri, child, stop };
    } catch { /* not up yet */ }
    await new Promise((r) => setTimeout(r, 300));
  }
  await stop();
  throw new Error(`mlflow server did not answer on ${uri} within ${timeoutSeconds}s; see ${join(dir, "server.log")}`);
}
