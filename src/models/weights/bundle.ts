import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { WeightSpec } from "../artifacts";
import { readWeightsFile } from "../keras-archive";
import { cacheRoot, type Architecture } from "../zoo";
import { expectedWeights, mapWeights } from "./map";

/**
 * A `.h5` converted once into tfjs' layout (weightSpecs + one little-endian float32 buffer), kept
 * in `<cacheRoot>/converted`, keyed by the architecture and the `.h5` file's sha256. Later runs
 * read it synchronously without HDF5.
 */
export interface Bundle {
  weightSpecs: WeightSpec[];
  weightData: ArrayBuffer;
  /** The .h5 it came from. */
  source: string;
}

export function bundleDir(arch: Architecture, h5Sha256: string): string {
  return join(cacheRoot(), "converted", `${arch.name}-${h5Sha256.slice(0, 16)}`);
}

export function readBundle(dir: string): Bundle | undefined {
  const specs = join(dir, "weights.json");
  const bin = join(dir, "weights.bin");
  if (!existsSync(specs) || !existsSync(bin)) return undefined;
  try {
    const meta = JSON.parse(readFileSync(specs, "utf8")) as { weightSpecs: WeightSpec[]; source: string };
    const data = readFileSync(bin);
    const expected = meta.weightSpecs.reduce((n, s) => n + 4 * s.shape.reduce((a, b) => a * b, 1), 0);
    if (data.byteLength !== expected) return undefined; // damaged: a miss, converted again
    return { weightSpecs: meta.weightSpecs, weightData: data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength), source: meta.source };
  } catch {
    return undefined;
  }
}

/** Read `h5` (either Keras layout), map it by layer name onto `arch`, and store the bundle in `dir`. */
export async function convertH5(arch: Architecture, h5: string, dir: string): Promise<void> {
  const weights = await readWeightsFile(h5);
  const mapped = mapWeights(weights, await expectedWeights(arch.topology()), arch.name);
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  writeFileSync(join(tmp, "weights.bin"), new Uint8Array(mapped.weightData));
  writeFileSync(join(tmp, "weights.json"), JSON.stringify({ source: h5, layout: weights.layout, weightSpecs: mapped.weightSpecs }));
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
}
