#!/usr/bin/env node
// Installs Keras 3 (JAX backend, CPU) into a virtualenv outside the repository, once per machine,
// and prints the path of its python. Used by the .keras parity test to write Keras 3 archives
// (test/models/keras-archive.test.ts). TLRUN_KERAS3_VENV chooses another folder; PYTHON another
// interpreter (Python 3.9 to 3.12).
import { homedir } from "node:os";
import { join } from "node:path";
import { ensureVenv } from "./venv.mjs";

export const KERAS_VERSION = "3.6.0";
const PACKAGES = [`keras==${KERAS_VERSION}`, "jax[cpu]==0.4.30", "numpy<2", "h5py"];

export function venvDir() {
  return process.env.TLRUN_KERAS3_VENV || join(homedir(), ".cache", "tlrun", `py-keras-${KERAS_VERSION}`);
}

/** The venv's python, installing the pinned packages first if needed. */
export function ensureKeras3Python() {
  return ensureVenv({
    dir: venvDir(), packages: PACKAGES, marker: ".tlrun-keras3-ready",
    pythons: ["python3.11", "python3.12", "python3.10", "python3.9", "python3"], versions: ["3.9", "3.10", "3.11", "3.12"],
    hint: "writing Keras 3 archives needs Python 3.9 to 3.12; set PYTHON",
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.stdout.write(ensureKeras3Python() + "\n");
}
