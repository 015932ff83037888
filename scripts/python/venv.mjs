// One pinned Python virtualenv outside the repository, made once per machine: shared by the
// Keras 2 (setup-keras.mjs) and Keras 3 (setup-keras3.mjs) environments of the parity tests.
import { spawnSync } from "node:child_process";
import { existsSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

function run(cmd, args) {
  const r = spawnSync(cmd, args, { stdio: ["ignore", "inherit", "inherit"] });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed with exit code ${r.status ?? r.signal}`);
}

/** The first of PYTHON and `candidates` whose version is in `versions`; else throws `hint`. */
function findPython(candidates, versions, hint) {
  for (const cmd of [process.env.PYTHON, ...candidates].filter(Boolean)) {
    const r = spawnSync(cmd, ["-c", "import sys; print('%d.%d' % sys.version_info[:2])"], { encoding: "utf8" });
    if (r.status === 0 && versions.includes(r.stdout.trim())) return cmd;
  }
  throw new Error(hint);
}

/**
 * The venv's python in `dir`, installing `packages` first if needed (into a temporary folder,
 * then renamed, so a killed install never looks ready). `marker` names the file that says so.
 */
export function ensureVenv({ dir, packages, marker, pythons, versions, hint }) {
  const python = join(dir, "bin", "python");
  if (existsSync(python) && existsSync(join(dir, marker))) return python;
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  process.stderr.write(`tlrun: installing ${packages.join(" ")} into ${dir} (once)\n`);
  run(findPython(pythons, versions, hint), ["-m", "venv", tmp]);
  run(join(tmp, "bin", "pip"), ["install", "--disable-pip-version-check", "-q", ...packages]);
  writeFileSync(join(tmp, marker), packages.join("\n") + "\n");
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
  return python;
}
