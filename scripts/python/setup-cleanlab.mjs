#!/usr/bin/env node
// Installs the pinned cleanlab (Datalab) and scikit-learn into a virtualenv outside the
// repository, once per machine, and prints the path of its python. Used by the audit comparison
// (bench/audit-compare.ts, scripts/python/datalab_audit.py) and its test
// (test/audit/planted.test.ts). TLRUN_CLEANLAB_VENV chooses another folder; PYTHON another interpreter.
import { homedir } from "node:os";
import { join } from "node:path";
import { ensureVenv } from "./venv.mjs";

export const CLEANLAB_VERSION = "2.9.0";
/** Datalab with its own extras (cleanlab[datalab]), and scikit-learn for the cross-validated probe that gives it pred_probs. */
export const PACKAGES = [`cleanlab[datalab]==${CLEANLAB_VERSION}`, "scikit-learn==1.9.1"];

export function venvDir() {
  return process.env.TLRUN_CLEANLAB_VENV || join(homedir(), ".cache", "tlrun", `py-cleanlab-${CLEANLAB_VERSION}`);
}

/** The venv's python, installing the pinned packages first if needed. */
export function ensureCleanlabPython() {
  return ensureVenv({
    dir: venvDir(), packages: PACKAGES, marker: ".tlrun-cleanlab-ready",
    pythons: ["python3.12", "python3.11", "python3.10", "python3"], versions: ["3.10", "3.11", "3.12", "3.13"],
    hint: "the Datalab comparison needs Python 3.10 or newer; set PYTHON",
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.stdout.write(ensureCleanlabPython() + "\n");
}
