import { closeSync, existsSync, fstatSync, openSync, readSync } from "node:fs";
import { TlrunError } from "../errors";

/** One weight of a Keras layer as stored in the .h5 file. */
export interface H5Weight {
  name: string;
  shape: number[];
  data: Float32Array;
}

/** The weights of a Keras .h5 file, layer by layer in the file's order (Keras' own loading order). */
export interface KerasWeights {
  file: string;
  layout: "weights" | "model" | "keras";
  layers: Map<string, H5Weight[]>;
}

export type H5 = typeof import("h5wasm");
export type Group = InstanceType<H5["Group"]>;

let h5: Promise<H5> | undefined;

/** h5wasm is an ES module only; load it with a real dynamic import (tsc would turn `import()` into require). */
export function loadH5wasm(): Promise<H5> {
  const dynamicImport = new Function("s", "return import(s)") as (s: string) => Promise<H5>;
  h5 ??= dynamicImport("h5wasm/node").then(async (m) => {
    await m.ready;
    return m;
  });
  return h5;
}

const HDF5_SIGNATURE = Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]);

/** The end-of-file address the superblock records (versions 0-3), to catch truncation before HDF5 does. */
function storedEof(sb: Buffer): number | undefined {
  const version = sb[8]!;
  const size = version < 2 ? sb[13]! : sb[9]!;
  const at = version === 0 ? 24 + 2 * size : version === 1 ? 28 + 2 * size : version <= 3 ? 12 + 2 * size : -1;
  if (at < 0 || size !== 8 || at + 8 > sb.length) return undefined;
  return Number(sb.readBigUInt64LE(at));
}

/** Cheap checks first: the file exists, is HDF5, and is as long as its superblock says. */
function checkHeader(file: string): void {
  if (!existsSync(file)) throw new TlrunError(`weights file not found: ${file}`, 1);
  const fd = openSync(file, "r");
  const head = Buffer.alloc(96);
  let size: number;
  try {
    readSync(fd, head, 0, head.length, 0);
    size = fstatSync(fd).size;
  } finally {
    closeSync(fd);
  }
  if (!head.subarray(0, 8).equals(HDF5_SIGNATURE))
    throw new TlrunError(`${file}: not an HDF5 file (a Keras .h5 starts with the HDF5 signature)${head[0] === 0x3c ? "; it looks like an HTML page" : ""}`, 1);
  const eof = storedEof(head);
  if (eof !== undefined && eof > size)
    throw new TlrunError(`${file}: truncated: the file has ${size} bytes but its header says ${eof}; download it again`, 1);
}

/** A string-list attribute, including h5py's split form for long lists (`name0`, `name1`, …). */
function stringsAttr(g: Group, name: string): string[] | undefined {
  const attrs = g.attrs as Record<string, { value: unknown }>;
  const one = (n: string): string[] | undefined => {
    if (!(n in attrs)) return undefined;
    const v = attrs[n]!.value;
    const list = Array.isArray(v) ? v : [v];
    // an empty list (a layer without weights) may come back as one empty string
    return list.map((s) => (s instanceof Uint8Array ? Buffer.from(s).toString("utf8") : String(s))).filter((s) => s !== "");
  };
  const whole = one(name);
  if (whole) return whole;
  const parts: string[] = [];
  for (let i = 0; one(`${name}${i}`); i++) parts.push(...one(`${name}${i}`)!);
  return parts.length ? parts : undefined;
}

export function toFloat32(v: unknown): Float32Array {
  if (v instanceof Float32Array) return v;
  if (v instanceof BigInt64Array || v instanceof BigUint64Array) return Float32Array.from(v, Number);
  if (ArrayBuffer.isView(v) && !(v instanceof DataView)) return Float32Array.from(v as unknown as ArrayLike<number>);
  if (typeof v === "number") return Float32Array.of(v);
  if (typeof v === "bigint") return Float32Array.of(Number(v)); // an int64 scalar: Normalization's sample count
  throw new Error("not a numeric dataset");
}

function readLayers(root: Group, file: string): Map<string, H5Weight[]> {
  const layerNames = stringsAttr(root, "layer_names");
  if (!layerNames) throw new TlrunError(`${file}: no 'layer_names' attribute; not a Keras weights file`, 1);
  const layers = new Map<string, H5Weight[]>();
  for (const layer of layerNames) {
    const g = root.get(layer) as Group | null;
    if (!g) throw new TlrunError(`${file}: layer '${layer}' is listed but has no group`, 1);
    const weights = (stringsAttr(g, "weight_names") ?? []).map((wn): H5Weight => {
      const ds = g.get(wn) as { shape: number[] | null; value: unknown } | null;
      if (!ds) throw new TlrunError(`${file}: weight '${layer}/${wn}' is listed but missing`, 1);
      return { name: wn, shape: ds.shape ?? [], data: toFloat32(ds.value) };
    });
    layers.set(layer, weights);
  }
  return layers;
}

/**
 * Read a Keras HDF5 weights file: either the weights-only layout (`save_weights`, and the
 * keras.applications notop files: root attribute `layer_names`, each layer group with
 * `weight_names`) or a full model saved with `model.save` (the same under `model_weights`).
 */
export async function readKerasH5(file: string): Promise<KerasWeights> {
  checkHeader(file);
  const m = await loadH5wasm();
  let f: InstanceType<H5["File"]>;
  try {
    f = new m.File(file, "r");
  } catch (err) {
    throw new TlrunError(`${file}: cannot open as HDF5 (truncated or damaged?): ${(err as Error).message}`, 1);
  }
  if (f.file_id < 0n) throw new TlrunError(`${file}: cannot open as HDF5 (truncated or damaged?)`, 1);
  try {
    const mw = f.keys().includes("model_weights") ? (f.get("model_weights") as Group) : undefined;
    const layers = readLayers(mw ?? f, file);
    return { file, layout: mw ? "model" : "weights", layers };
  } catch (err) {
    if (err instanceof TlrunError) throw err;
    throw new TlrunError(`${file}: cannot read the weights (truncated or damaged?): ${(err as Error).message}`, 1);
  } finally {
    f.close();
  }
}
