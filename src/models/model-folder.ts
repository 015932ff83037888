/** tfjs model folders (LayersModel or GraphModel), on disk or downloaded from a URL, read into artifacts. */
import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, isAbsolute, join, relative, resolve } from "node:path";
import { TlrunError } from "../errors";
import { sha256 } from "../util/hash";
import type { GraphSpec, ModelArtifacts, WeightSpec } from "./artifacts";
import { isRemoteModelCached, jsonPath, type RemoteModel } from "./remote-model";
import type { ModelTopology } from "./topology";
import { prepareInChild } from "./weights/prepare";
import { stampedSha256 } from "./weights/verify";

export interface ModelJson {
  format?: string;
  modelTopology: ModelTopology;
  signature?: unknown;
  userDefinedMetadata?: Record<string, unknown>;
  weightsManifest: Array<{ paths: string[]; weights: WeightSpec[] }>;
}

/** The empty layer list a GraphModel's artifacts carry in place of a Keras topology. */
export const NO_LAYERS: ModelTopology = { class_name: "Functional", config: { name: "graph_model", layers: [], input_layers: [], output_layers: [] } };

/** Whether a model.json holds a GraphModel (a TensorFlow GraphDef) rather than a Keras LayersModel. */
export function isGraphJson(json: ModelJson): boolean {
  return json.format === "graph-model" || Array.isArray((json.modelTopology as { node?: unknown } | undefined)?.node);
}

export function finish(origin: string, json: ModelJson, shards: Uint8Array[], extra: Partial<ModelArtifacts>): ModelArtifacts {
  const total = shards.reduce((n, s) => n + s.byteLength, 0);
  const data = new Uint8Array(total);
  let off = 0;
  for (const s of shards) {
    data.set(s, off);
    off += s.byteLength;
  }
  return {
    origin,
    topology: json.modelTopology,
    weightSpecs: json.weightsManifest.flatMap((g) => g.weights),
    weightData: data.buffer,
    weightsSha256: sha256(data),
    preprocessing: "tf",
    ...extra,
  };
}

/**
 * A tfjs model folder (or its model.json) on disk: a LayersModel, or a GraphModel for extraction
 * only. Shard paths may not leave the folder. `origin` names where it came from (a URL).
 */
export function loadModelFolder(path: string, from?: string): ModelArtifacts {
  const file = existsSync(path) && statSync(path).isDirectory() ? join(path, "model.json") : path;
  const origin = from ?? file;
  if (!existsSync(file)) throw new TlrunError(`base model not found: ${file} (expected a tfjs model.json or its folder)`, 2);
  const dir = dirname(resolve(file));
  let json: ModelJson;
  try {
    json = JSON.parse(readFileSync(file, "utf8")) as ModelJson;
  } catch (err) {
    throw new TlrunError(`${file}: not valid JSON (${(err as Error).message})`, 1);
  }
  if (!json.modelTopology || !Array.isArray(json.weightsManifest))
    throw new TlrunError(`${origin}: not a tfjs model.json (needs modelTopology and weightsManifest)`, 1);
  const shards = json.weightsManifest.flatMap((g) =>
    g.paths.map((p) => {
      const abs = resolve(dir, p);
      const rel = relative(dir, abs);
      if (rel.startsWith("..") || isAbsolute(rel))
        throw new TlrunError(`${file}: weight path '${p}' leaves the model folder; refused. A tfjs model's shards must sit beside model.json (paths such as 'group1-shard1of1.bin')`, 1);
      if (!existsSync(abs)) throw new TlrunError(`${file}: weight shard '${p}' is missing`, 1);
      return new Uint8Array(readFileSync(abs));
    }),
  );
  checkShardBytes(origin, json, shards);
  if (!isGraphJson(json)) return finish(origin, json, shards, {});
  const graph: GraphSpec = { modelTopology: json.modelTopology, signature: json.signature, userDefinedMetadata: json.userDefinedMetadata };
  return finish(`${origin} (graph model)`, { ...json, modelTopology: NO_LAYERS }, shards, { graph });
}

const DTYPE_BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, complex64: 8 };

/** The shards must hold exactly the bytes the weightsManifest describes (quantized weights aside). */
function checkShardBytes(origin: string, json: ModelJson, shards: Uint8Array[]): void {
  const specs = json.weightsManifest.flatMap((g) => g.weights);
  if (specs.some((w) => w.quantization || !(w.dtype in DTYPE_BYTES))) return;
  const want = specs.reduce((n, w) => n + DTYPE_BYTES[w.dtype]! * w.shape.reduce((x, y) => x * y, 1), 0);
  const got = shards.reduce((n, s) => n + s.byteLength, 0);
  if (got !== want)
    throw new TlrunError(`${origin}: the weight shards hold ${got} bytes but the weightsManifest describes ${want}; a shard is truncated or belongs to another model`, 1);
}

/** A model.json from a URL, from the cache; downloaded first (in a child process) if it is not there. */
export function loadRemoteModel(r: RemoteModel, model: string): ModelArtifacts {
  if (!isRemoteModelCached(r)) prepareInChild(`the model ${r.url}`, { model, weights: "", baseDir: "" });
  return loadModelFolder(jsonPath(r), r.url);
}

/** The topology of a model URL from its model.json alone (downloaded into the cache if needed). */
export function remoteShape(r: RemoteModel, model: string): Pick<ModelArtifacts, "topology" | "preprocessing" | "graph"> {
  if (!existsSync(jsonPath(r)) || !stampedSha256(jsonPath(r))) prepareInChild(`the model.json ${r.url}`, { model, weights: "", baseDir: "", only: "json" });
  const json = JSON.parse(readFileSync(jsonPath(r), "utf8")) as ModelJson;
  if (isGraphJson(json)) return { topology: NO_LAYERS, preprocessing: "tf", graph: { modelTopology: json.modelTopology } };
  return { topology: json.modelTopology, preprocessing: "tf" };
}
