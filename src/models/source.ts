import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve, isAbsolute } from "node:path";
import type { Preprocessing } from "../config/types";
import { TlrunError } from "../errors";
import { sha256 } from "../util/hash";
import type { ModelTopology } from "./topology";
import type { Progress } from "./weights/download";
import { fetchRemoteModel, isRemoteModelCached, jsonPath, remoteModelRef, type RemoteModel } from "./remote-model";
import { loadArchitectureArtifacts, prepareArchitecture, prepareInChild } from "./weights/prepare";
import { stampedSha256 } from "./weights/verify";
import { isAvailable, weightsFile, weightsIdentity } from "./weights/sources";
import { ARCHITECTURES, type Architecture } from "./zoo";

/** A weight entry of model.json's weightsManifest. */
export interface WeightSpec {
  name: string;
  shape: number[];
  dtype: "float32" | "int32" | "bool" | "string" | "complex64";
  quantization?: { dtype: string; min?: number; scale?: number };
}

/** Everything needed to build a base model, read from disk or from an npm package. */
export interface ModelArtifacts {
  /** Where the weights came from, for `tlrun doctor` and run records. */
  origin: string;
  topology: ModelTopology;
  weightSpecs: WeightSpec[];
  weightData: ArrayBuffer;
  /** sha256 of the weight bytes, logged with every run. */
  weightsSha256: string;
  /** The layer that ends the convolutional base, when the model is a known architecture. */
  defaultCut?: string;
  preprocessing: Exclude<Preprocessing, "auto">;
  /**
   * Set for a tfjs GraphModel (a TF-Hub-style feature vector or a converted SavedModel): it has no
   * layers to cut, freeze or fine-tune, so it only extracts features. `topology` is then empty.
   */
  graph?: GraphSpec;
}

/** What tf.loadGraphModel needs besides the weights. */
export interface GraphSpec {
  modelTopology: unknown;
  signature?: unknown;
  userDefinedMetadata?: Record<string, unknown>;
}

interface ModelJson {
  format?: string;
  modelTopology: ModelTopology;
  signature?: unknown;
  userDefinedMetadata?: Record<string, unknown>;
  weightsManifest: Array<{ paths: string[]; weights: WeightSpec[] }>;
}

/** The empty layer list a GraphModel's artifacts carry in place of a Keras topology. */
const NO_LAYERS: ModelTopology = { class_name: "Functional", config: { name: "graph_model", layers: [], input_layers: [], output_layers: [] } };

/** Whether a model.json holds a GraphModel (a TensorFlow GraphDef) rather than a Keras LayersModel. */
function isGraphJson(json: ModelJson): boolean {
  return json.format === "graph-model" || Array.isArray((json.modelTopology as { node?: unknown } | undefined)?.node);
}

function finish(origin: string, json: ModelJson, shards: Uint8Array[], extra: Partial<ModelArtifacts>): ModelArtifacts {
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
 * The MobileNetV2 LayersModel shipped inside the `nsfwjs` npm package: a Keras MobileNetV2
 * (alpha 1.0, 224 px) whose base was trained on ImageNet, stored as JS modules that hold the
 * model.json and base64 weight shards.
 */
function loadEmbeddedMobileNetV2(): ModelArtifacts {
  let root: string;
  try {
    // nsfwjs' exports map hides package.json; its main entry is <root>/dist/cjs/index.js.
    root = resolve(dirname(require.resolve("nsfwjs")), "..", "..");
  } catch {
    throw new TlrunError("the embedded mobilenet_v2 needs the 'nsfwjs' package; run npm install", 1);
  }
  const dir = join(root, "dist", "models", "mobilenet_v2");
  const json = require(join(dir, "model.min.js")) as ModelJson;
  const shards = json.weightsManifest.flatMap((g) =>
    g.paths.map((p) => {
      const b64 = require(join(dir, `${p}.min.js`)) as string;
      return new Uint8Array(Buffer.from(b64, "base64"));
    }),
  );
  return finish(`nsfwjs@${require(join(root, "package.json")).version} mobilenet_v2`, json, shards, {
    defaultCut: "out_relu",
    preprocessing: "tf",
  });
}

/**
 * A tfjs model folder (or its model.json) on disk: a LayersModel, or a GraphModel for extraction
 * only. Shard paths may not leave the folder. `origin` names where it came from (a URL).
 */
function loadModelFolder(path: string, from?: string): ModelArtifacts {
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
function loadRemoteModel(r: RemoteModel, model: string): ModelArtifacts {
  if (!isRemoteModelCached(r)) prepareInChild(`the model ${r.url}`, { model, weights: "", baseDir: "" });
  return loadModelFolder(jsonPath(r), r.url);
}

const EMBEDDED: Record<string, () => ModelArtifacts> = { mobilenet_v2: loadEmbeddedMobileNetV2 };

/** What `tlrun plan` can say about a base without loading its weights. */
export interface BaseDescription {
  kind: "embedded" | "architecture" | "path" | "url";
  /** Stable identity of the weights, for cache keys. */
  weightsId: string;
  offline: boolean;
  note: string;
}

/** The zoo architecture `base.model` names; an embedded model of the same name wins when no weights are given. */
export function architectureFor(model: string, weights: string): Architecture | undefined {
  const arch = ARCHITECTURES[model];
  return arch && !(EMBEDDED[model] && !weights) ? arch : undefined;
}

/** Describe `base.model` + `base.weights`: where the weights come from and whether they are here. */
export function describeBase(model: string, weights: string, baseDir: string): BaseDescription {
  const arch = architectureFor(model, weights);
  if (arch) {
    const w = weightsFile(arch, weights, baseDir);
    const offline = isAvailable(w);
    const hashNote = w.kind === "url" && !w.hash ? "; Keras publishes no hash for it, so its sha256 is recorded on first download" : "";
    const note = offline
      ? `${arch.name} weights ${w.kind === "url" ? "cached at" : "from"} ${w.path}`
      : w.kind === "url"
        ? `${arch.name} weights are not cached; they must be downloaded from ${w.url} (to ${w.path})${hashNote}`
        : `${arch.name} weights file not found: ${w.path}`;
    return { kind: "architecture", weightsId: weightsIdentity(arch, w), offline, note };
  }
  if (EMBEDDED[model]) {
    const a = loadArtifacts(model, baseDir);
    return { kind: "embedded", weightsId: a.weightsSha256, offline: true, note: `embedded: ${a.origin}` };
  }
  const remote = remoteModelRef(model);
  if (remote) {
    if (isRemoteModelCached(remote)) return { kind: "url", weightsId: loadArtifacts(model, baseDir).weightsSha256, offline: true, note: `${remote.url}, cached at ${remote.dir}` };
    const pin = remote.hash ? "checked against its pinned sha256" : "its sha256 is recorded on first download (pin it with #sha256=<hex>)";
    return { kind: "url", weightsId: `url:${remote.url}#${remote.hash ?? ""}`, offline: false, note: `the model must be downloaded from ${remote.url} (to ${remote.dir}); ${pin}` };
  }
  const a = loadArtifacts(model, baseDir);
  return { kind: "path", weightsId: a.weightsSha256, offline: true, note: a.origin };
}

/** The base's topology and defaults, without loading weights that may not be here. */
export function baseShape(model: string, baseDir: string): Pick<ModelArtifacts, "topology" | "defaultCut" | "preprocessing" | "graph"> {
  const arch = ARCHITECTURES[model];
  if (arch && !EMBEDDED[model]) return { topology: arch.topology(), defaultCut: arch.defaultCut, preprocessing: arch.preprocessing };
  const remote = remoteModelRef(model);
  if (remote && !isRemoteModelCached(remote)) return remoteShape(remote, model);
  return loadArtifacts(model, baseDir);
}

/** The topology of a model URL from its model.json alone (downloaded into the cache if needed). */
function remoteShape(r: RemoteModel, model: string): Pick<ModelArtifacts, "topology" | "preprocessing" | "graph"> {
  if (!existsSync(jsonPath(r)) || !stampedSha256(jsonPath(r))) prepareInChild(`the model.json ${r.url}`, { model, weights: "", baseDir: "", only: "json" });
  const json = JSON.parse(readFileSync(jsonPath(r), "utf8")) as ModelJson;
  if (isGraphJson(json)) return { topology: NO_LAYERS, preprocessing: "tf", graph: { modelTopology: json.modelTopology } };
  return { topology: json.modelTopology, preprocessing: "tf" };
}

/**
 * Fetch and convert an architecture's weights ahead of a run, with progress; afterwards
 * `loadArtifacts` reads them from the cache without a child process. Other bases need nothing.
 */
export async function prepareBase(model: string, baseDir: string, weights: string, onProgress?: Progress): Promise<void> {
  const arch = architectureFor(model, weights);
  if (arch) await prepareArchitecture(arch, weights, baseDir, onProgress);
  const remote = remoteModelRef(model);
  if (remote && !isRemoteModelCached(remote)) await fetchRemoteModel(remote, onProgress);
}

const cache = new Map<string, ModelArtifacts>();

/** Names that `base.model` accepts besides a path. */
export const embeddedModels = Object.keys(EMBEDDED);

/** Resolve `base.model` (an embedded name, an architecture, a URL, or a path relative to `baseDir`) to its artifacts. */
export function loadArtifacts(model: string, baseDir: string, weights = ""): ModelArtifacts {
  const arch = architectureFor(model, weights);
  const remote = arch || EMBEDDED[model] ? undefined : remoteModelRef(model);
  const key = arch ? `${arch.name}\0${weights}\0${baseDir}` : EMBEDDED[model] || remote ? model : resolve(baseDir, model);
  let a = cache.get(key);
  if (!a) {
    a = arch ? loadArchitectureArtifacts(arch, weights, baseDir) : EMBEDDED[model] ? EMBEDDED[model]!() : remote ? loadRemoteModel(remote, model) : loadModelFolder(key);
    cache.set(key, a);
  }
  return a;
}
