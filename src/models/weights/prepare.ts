import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { TlrunError } from "../../errors";
import { sha256 } from "../../util/hash";
import type { ModelArtifacts } from "../artifacts";
import type { Architecture } from "../zoo";
import { bundleDir, convertH5, readBundle, type Bundle } from "./bundle";
import type { Progress } from "./download";
import { fetchWeightsFile, isAvailable, weightsFile } from "./sources";
import { sha256Sync } from "./verify";

/** Fetch (once) and convert (once) an architecture's weights; returns the bundle's folder. */
export async function prepareArchitecture(arch: Architecture, weights: string, baseDir: string, onProgress?: Progress): Promise<string> {
  const w = weightsFile(arch, weights, baseDir);
  const path = await fetchWeightsFile(w, onProgress, arch);
  const dir = bundleDir(arch, sha256Sync(path));
  if (!readBundle(dir)) await convertH5(arch, path, dir);
  return dir;
}

/** The ready bundle for these weights, if the file is here and was converted before. */
function readyBundle(arch: Architecture, weights: string, baseDir: string): Bundle | undefined {
  const w = weightsFile(arch, weights, baseDir);
  return isAvailable(w) ? readBundle(bundleDir(arch, sha256Sync(w.path))) : undefined;
}

/**
 * Run prepare-main.js (`prepareArchitecture`, or a model URL's download) in a child process and
 * wait for it: `loadArtifacts` is synchronous, while downloads and HDF5 (h5wasm, an ES module)
 * are not. Progress goes to our stderr; the child reports its result or error as one JSON line.
 */
export function prepareInChild(label: string, payload: { model: string; weights: string; baseDir: string; only?: "json" }): void {
  let out: string;
  try {
    out = execFileSync(process.execPath, [join(__dirname, "prepare-main.js"), JSON.stringify(payload)], {
      stdio: ["ignore", "pipe", "inherit"],
      encoding: "utf8",
      maxBuffer: 1 << 20,
    });
  } catch (err) {
    out = String((err as { stdout?: string }).stdout ?? "");
    if (!out.trim()) throw new TlrunError(`preparing ${label} failed: ${(err as Error).message}`, 1);
  }
  const last = out.trim().split("\n").pop() ?? "{}";
  const result = JSON.parse(last) as { ok?: boolean; error?: string; exitCode?: number };
  if (!result.ok) throw new TlrunError(result.error ?? `preparing ${label} failed`, result.exitCode ?? 1);
}

/** An architecture's artifacts with real weights: from the converted bundle, preparing it first if needed. */
export function loadArchitectureArtifacts(arch: Architecture, weights: string, baseDir: string): ModelArtifacts {
  let bundle = readyBundle(arch, weights, baseDir);
  if (!bundle) {
    prepareInChild(`the ${arch.name} weights`, { model: arch.name, weights, baseDir });
    bundle = readyBundle(arch, weights, baseDir);
    if (!bundle) throw new TlrunError(`the ${arch.name} weights were prepared but cannot be read back from the cache`, 1);
  }
  return {
    origin: `${arch.name} weights from ${bundle.source}`,
    topology: arch.topology(),
    weightSpecs: bundle.weightSpecs,
    weightData: bundle.weightData,
    weightsSha256: sha256(new Uint8Array(bundle.weightData)),
    defaultCut: arch.defaultCut,
    preprocessing: arch.preprocessing,
  };
}
