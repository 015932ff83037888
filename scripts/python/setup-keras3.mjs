#!/usr/bin/env node
// Installs Keras 3 (JAX backend, CPU) into a virtualenv outside the repository, once per machine,
// and prints the path of its python. Used by the .keras parity test to write Keras 3 archives
// (test/models/keras-archive.test.ts). TLRUN_KERAS3_VENV chooses another folder; PYTHON another
// interpreter (Python 3.9 to 3.12).
import { spawnSync } from "node:child_process";
import { existsSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

export const KERAS_VERSION = "3.6.0";
const PACKAGES = [`keras==${KERAS_VERSION}`, "jax[cpu]==0.4.30", "numpy<2", "h5py"];

export function venvDir() {
  return process.env.TLRUN_KERAS3_VENV || join(homedir(), ".cache", "tlrun", `py-keras-${KERAS_VERSION}`);
}

function run(cmd, args) {
  const r = spawnSync(cmd, args, { stdio: ["ignore", "inherit", "inherit"] });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed with exit code ${r.status ?? r.signal}`);
}

function findPython() {
  for (const cmd of [process.env.PYTHON, "python3.11", "python3.12", "python3.10", "python3.9", "python3"].filter(Boolean)) {
    const r = spawnSync(cmd, ["-c", "import sys; print('%d.%d' % sys.version_info[:2])"], { encoding: "utf8" });
    if (r.status === 0 && ["3.9", "3.10", "3.11", "3.12"].includes(r.stdout.trim())) return cmd;
  }
  throw new Error("writing Keras 3 archives needs Python 3.9 to 3.12; set PYTHON");
}

/** The venv's python, installing the pinned packages first if needed (into a temporary folder, then renamed). */
export function ensureKeras3Python() {
  const dir = venvDir();
  const python = join(dir, "bin", "python");
  const marker = join(dir, ".tlrun-keras3-ready");
  if (existsSync(python) && existsSync(marker)) return python;
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  process.stderr.write(`tlrun: installing ${PACKAGES.join(" ")} into ${dir} (once)\n`);
  run(findPython(), ["-m", "venv", tmp]);
  run(join(tmp, "bin", "pip"), ["install", "--disable-pip-version-check", "-q", ...PACKAGES]);
  writeFileSync(join(tmp, ".tlrun-keras3-ready"), PACKAGES.join("\n") + "\n");
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
  return python;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.stdout.write(ensureKeras3Python() + "\n");
}
