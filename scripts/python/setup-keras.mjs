#!/usr/bin/env node
// Installs the pinned TensorFlow (Keras 2) into a virtualenv outside the repository, once per
// machine, and prints the path of its python. Used by the Keras parity tests
// (test/models/parity.test.ts). TLRUN_KERAS_VENV chooses another folder; PYTHON another interpreter
// (TensorFlow 2.15 needs Python 3.9 to 3.11).
import { spawnSync } from "node:child_process";
import { existsSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

export const TF_VERSION = "2.15.1";
const PACKAGES = [`tensorflow-cpu==${TF_VERSION}`, "numpy<2", "h5py"];

export function venvDir() {
  return process.env.TLRUN_KERAS_VENV || join(homedir(), ".cache", "tlrun", `py-keras-${TF_VERSION}`);
}

function run(cmd, args) {
  const r = spawnSync(cmd, args, { stdio: ["ignore", "inherit", "inherit"] });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed with exit code ${r.status ?? r.signal}`);
}

/** The first interpreter TensorFlow 2.15 supports. */
function findPython() {
  for (const cmd of [process.env.PYTHON, "python3.11", "python3.10", "python3.9", "python3"].filter(Boolean)) {
    const r = spawnSync(cmd, ["-c", "import sys; print('%d.%d' % sys.version_info[:2])"], { encoding: "utf8" });
    if (r.status === 0 && ["3.9", "3.10", "3.11"].includes(r.stdout.trim())) return cmd;
  }
  throw new Error("the Keras parity tests need Python 3.9, 3.10 or 3.11 (TensorFlow 2.15); set PYTHON");
}

/** The venv's python, installing the pinned packages first if needed (into a temporary folder, then renamed). */
export function ensureKerasPython() {
  const dir = venvDir();
  const python = join(dir, "bin", "python");
  const marker = join(dir, ".tlrun-keras-ready");
  if (existsSync(python) && existsSync(marker)) return python;
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  process.stderr.write(`tlrun: installing ${PACKAGES.join(" ")} into ${dir} (once)\n`);
  run(findPython(), ["-m", "venv", tmp]);
  run(join(tmp, "bin", "pip"), ["install", "--disable-pip-version-check", "-q", ...PACKAGES]);
  writeFileSync(join(tmp, ".tlrun-keras-ready"), PACKAGES.join("\n") + "\n");
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
  return python;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.stdout.write(ensureKerasPython() + "\n");
}
