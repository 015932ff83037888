import { closeSync, openSync, readFileSync, readSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { makeScratch, sweepScratch } from "../cache/scratch";
import { cacheRoot } from "../util/cache-root";
import { unzipSync, strFromU8 } from "fflate";
import { TlrunError } from "../errors";
import { loadH5wasm, readKerasH5, toFloat32, type Group, type H5Weight, type KerasWeights } from "./h5-read";

const ZIP_SIGNATURE = Buffer.from([0x50, 0x4b, 0x03, 0x04]);

/** Whether a file starts like a zip archive (a `.keras` file), whatever its name. */
export function isZipFile(head: Buffer): boolean {
  return head.subarray(0, 4).equals(ZIP_SIGNATURE);
}

interface ArchiveLayer {
  name: string;
  class_name: string;
}

/** Keras 2's `generic_utils.to_snake_case`: BatchNormalization -> batch_normalization, Conv2D -> conv2d. */
export function toSnakeCase(name: string): string {
  const s = name.replace(/(.)([A-Z][a-z0-9]+)/g, "$1_$2").replace(/([a-z])([A-Z])/g, "$1_$2").toLowerCase();
  return s.startsWith("_") ? `private${s}` : s;
}

/**
 * The key of each layer under `layers/` in model.weights.h5. Keras 2.13-2.15 and Keras 3 use the
 * snake-cased class name, numbered in layer order (conv2d, conv2d_1, …, conv2d_10); a layout keyed
 * by layer name (`layers/<name>/vars/<i>`) is also accepted. Repeated keys are numbered alike.
 */
export function archiveKeys(layers: ArchiveLayer[], scheme: "name" | "class"): string[] {
  const used = new Map<string, number>();
  return layers.map((l) => {
    const base = scheme === "name" ? l.name : toSnakeCase(l.class_name);
    const n = used.get(base);
    used.set(base, n === undefined ? 0 : n + 1);
    return n === undefined ? base : `${base}_${n + 1}`;
  });
}

function unpack(file: string): { config: { config?: { layers?: ArchiveLayer[] }; class_name?: string }; version: string; weights: Uint8Array } {
  const bytes = readFileSync(file);
  if (!isZipFile(bytes))
    throw new TlrunError(`${file}: not a .keras archive (a zip holding config.json and model.weights.h5)${bytes[0] === 0x3c ? "; it looks like an HTML page" : ""}`, 1);
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(bytes);
  } catch (err) {
    throw new TlrunError(`${file}: cannot unzip the .keras archive (truncated or damaged?): ${(err as Error).message}; download or save it again`, 1);
  }
  for (const need of ["config.json", "model.weights.h5"])
    if (!entries[need]) throw new TlrunError(`${file}: the .keras archive has no ${need} (it holds: ${Object.keys(entries).join(", ") || "nothing"}); save the model with model.save("model.keras")`, 1);
  const json = <T>(name: string): T => {
    try {
      return JSON.parse(strFromU8(entries[name]!)) as T;
    } catch (err) {
      throw new TlrunError(`${file}: ${name} in the archive is not valid JSON (${(err as Error).message})`, 1);
    }
  };
  const meta = entries["metadata.json"] ? json<{ keras_version?: string }>("metadata.json") : {};
  return { config: json("config.json"), version: meta.keras_version ?? "", weights: entries["model.weights.h5"]! };
}

/** The numbered variables of one layer group (`vars/0`, `vars/1`, …), in order. */
function layerVars(g: Group | null, layer: string): H5Weight[] {
  const vars = g?.get("vars") as Group | null | undefined;
  if (!vars) return [];
  return vars.keys().filter((k) => /^\d+$/.test(k)).sort((a, b) => Number(a) - Number(b)).map((k) => {
    const ds = vars.get(k) as { shape: number[] | null; value: unknown };
    return { name: `${layer}/vars/${k}`, shape: ds.shape ?? [], data: toFloat32(ds.value) };
  });
}

/**
 * Read the weights of a Keras `.keras` archive (config.json, metadata.json, model.weights.h5),
 * keyed by layer name like the `.h5` reader, so the same mapping applies. The weights sit under
 * `layers/<key>/vars/<i>`; `archiveKeys` ties each key to config.json's layer.
 */
export async function readKerasArchive(file: string): Promise<KerasWeights> {
  const { config, version, weights } = unpack(file);
  const layers = config.config?.layers;
  if (!Array.isArray(layers))
    throw new TlrunError(`${file}: config.json describes a ${config.class_name ?? "model"} without a layer list; tlrun reads .keras files of functional or sequential models`, 1);
  // h5wasm reads a file, so the archive's model.weights.h5 is written out: as large as the
  // model's weights (0.5 GB for VGG16), so into tlrun's cache folder, on the disk that keeps the
  // converted weights, not the temp folder, which is often RAM. Named by host and pid, so a
  // conversion killed with -9 is swept by the next.
  const scratch = join(cacheRoot(), ".scratch");
  sweepScratch(scratch);
  const dir = makeScratch(scratch, "keras");
  const h5file = join(dir, "model.weights.h5");
  writeFileSync(h5file, weights);
  const m = await loadH5wasm();
  const f = new m.File(h5file, "r");
  try {
    if (f.file_id < 0n || !f.keys().includes("layers"))
      throw new TlrunError(`${file}: model.weights.h5 in the archive has no 'layers' group; not a Keras 3 / 2.15 .keras file`, 1);
    const root = f.get("layers") as Group;
    const present = new Set(root.keys());
    // Keras 2.15 and 3.x key by class; a layer-name layout is read too, for writers that use it
    const scheme = archiveKeys(layers, "class").every((k) => present.has(k)) || !archiveKeys(layers, "name").every((k) => present.has(k)) ? "class" : "name";
    const keys = archiveKeys(layers, scheme);
    const out = new Map<string, H5Weight[]>();
    layers.forEach((l, i) => {
      const key = keys[i]!;
      if (!present.has(key)) throw new TlrunError(`${file}: layer '${l.name}' of config.json has no weights group 'layers/${key}' in model.weights.h5 (Keras ${version || "version unknown"}); the archive is damaged or from an unsupported Keras version`, 1);
      out.set(l.name, layerVars(root.get(key) as Group, l.name));
    });
    return { file, layout: "keras", layers: out };
  } catch (err) {
    if (err instanceof TlrunError) throw err;
    throw new TlrunError(`${file}: cannot read model.weights.h5 in the archive (damaged?): ${(err as Error).message}`, 1);
  } finally {
    f.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A Keras weights file of either kind: a `.keras` archive (told by its zip signature) or an HDF5 `.h5`. */
export async function readWeightsFile(file: string): Promise<KerasWeights> {
  const head = Buffer.alloc(4);
  try {
    const fd = openSync(file, "r");
    readSync(fd, head, 0, 4, 0);
    closeSync(fd);
  } catch {
    // missing or unreadable: the .h5 reader names the file
  }
  return isZipFile(head) || /\.keras$/i.test(file) ? readKerasArchive(file) : readKerasH5(file);
}
