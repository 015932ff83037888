#!/usr/bin/env node
// `npm run mlflow:dev`: installs the pinned MLflow (once) and serves it on 127.0.0.1 over
// .mlflow-dev/ (SQLite + proxied artifacts). Prints the MLFLOW_TRACKING_URI to export.
import { spawn } from "node:child_process";
import { mkdirSync } from "node:fs";
import { resolve } from "node:path";
import { ensureMlflow } from "./setup.mjs";

const port = process.env.MLFLOW_PORT || "5000";
const dir = resolve(process.env.MLFLOW_DEV_DIR || ".mlflow-dev");
mkdirSync(dir, { recursive: true });
const bin = ensureMlflow();
process.stderr.write(`export MLFLOW_TRACKING_URI=http://127.0.0.1:${port}   # then: npx tlrun pipelines/quickstart.yaml\n`);
const child = spawn(bin, ["server", "--host", "127.0.0.1", "--port", port, "--workers", "1",
  "--backend-store-uri", `sqlite:///${dir}/mlflow.db`, "--artifacts-destination", `${dir}/artifacts`], { stdio: "inherit" });
child.on("exit", (code) => process.exit(code ?? 0));
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => child.kill(sig));
