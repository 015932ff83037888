#!/usr/bin/env node
// Installs the pinned TensorFlow (Keras 2) into a virtualenv outside the repository, once per
// machine, and prints the path of its python. Used by the Keras parity tests
// (test/models/parity.test.ts). TLRUN_KERAS_VENV chooses another folder; PYTHON another interpreter
// (TensorFlow 2.15 needs Python 3.9 to 3.11).
import { homedir } from "node:os";
import { join } from "node:path";
import { ensureVenv } from "./venv.mjs";

export const TF_VERSION = "2.15.1";
const PACKAGES = [`tensorflow-cpu==${TF_VERSION}`, "numpy<2", "h5py"];

export function venvDir() {
  return process.env.TLRUN_KERAS_VENV || join(homedir(), ".cache", "tlrun", `py-keras-${TF_VERSION}`);
}

/** The venv's python, installing the pinned packages first if needed. */
export function ensureKerasPython() {
  return ensureVenv({
    dir: venvDir(), packages: PACKAGES, marker: ".tlrun-keras-ready",
    pythons: ["python3.11", "python3.10", "python3.9", "python3"], versions: ["3.9", "3.10", "3.11"],
    hint: "the Keras parity tests need Python 3.9, 3.10 or 3.11 (TensorFlow 2.15); set PYTHON",
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.stdout.write(ensureKerasPython() + "\n");
}
