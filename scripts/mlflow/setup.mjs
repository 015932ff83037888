#!/usr/bin/env node
// Installs the pinned MLflow into a virtualenv outside the repository (once per machine) and
// prints the path of its `mlflow` executable. Used by `.ci/run`, `npm run mlflow:dev` and the
// tracking tests. TLRUN_MLFLOW_VENV chooses another folder.
import { spawnSync } from "node:child_process";
import { existsSync, rmSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

export const MLFLOW_VERSION = "3.17.2";
/**
 * What mlflow.pyfunc needs to load the onnx flavor tlrun logs (src/tracking/mlflow-model.ts):
 * ONNX Runtime at tlrun's own onnxruntime-node version, and an onnx inside MLflow 3.17's tested range.
 */
export const ONNX_PACKAGES = ["onnx==1.19.1", "onnxruntime==1.30.0"];

export function venvDir() {
  return process.env.TLRUN_MLFLOW_VENV || join(homedir(), ".cache", "tlrun", `mlflow-${MLFLOW_VERSION}`);
}

function run(cmd, args) {
  const r = spawnSync(cmd, args, { stdio: ["ignore", "inherit", "inherit"] });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed with exit code ${r.status ?? r.signal}`);
}

/** The venv's mlflow executable, installing the pinned version first if needed. */
export function ensureMlflow() {
  const dir = venvDir();
  const bin = join(dir, "bin", "mlflow");
  const marker = join(dir, `.tlrun-mlflow-${MLFLOW_VERSION}`);
  if (existsSync(bin) && existsSync(marker)) return ensureOnnx(dir, bin);
  rmSync(dir, { recursive: true, force: true });
  const python = process.env.PYTHON || "python3";
  process.stderr.write(`tlrun: installing mlflow==${MLFLOW_VERSION} into ${dir} (once)\n`);
  run(python, ["-m", "venv", dir]);
  run(join(dir, "bin", "pip"), ["install", "--disable-pip-version-check", "-q", `mlflow==${MLFLOW_VERSION}`]);
  spawnSync("touch", [marker]);
  return ensureOnnx(dir, bin);
}

/** The pinned onnx packages in the venv (added to a venv made before they were needed). */
function ensureOnnx(dir, bin) {
  const marker = join(dir, `.tlrun-onnx-${ONNX_PACKAGES.join("-")}`);
  if (existsSync(marker)) return bin;
  process.stderr.write(`tlrun: installing ${ONNX_PACKAGES.join(" ")} into ${dir} (once)\n`);
  run(join(dir, "bin", "pip"), ["install", "--disable-pip-version-check", "-q", ...ONNX_PACKAGES]);
  spawnSync("touch", [marker]);
  return bin;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.stdout.write(ensureMlflow() + "\n");
}
