import { join, resolve } from "node:path";
import { extraDir } from "../util/extras";
import type { ModelArtifacts } from "./artifacts";
import { finish, loadModelFolder, loadRemoteModel, remoteShape, type ModelJson } from "./model-folder";
import type { Progress } from "./weights/download";
import { fetchRemoteModel, isRemoteModelCached, remoteModelRef } from "./remote-model";
import { loadArchitectureArtifacts, prepareArchitecture } from "./weights/prepare";
import { isAvailable, weightsFile, weightsIdentity, type WeightsFile } from "./weights/sources";
import { ARCHITECTURES, type Architecture } from "./zoo";

export type { GraphSpec, ModelArtifacts, WeightSpec } from "./artifacts";

/**
 * The MobileNetV2 LayersModel shipped inside the `nsfwjs` npm package: a Keras MobileNetV2
 * (alpha 1.0, 224 px) whose base was trained on ImageNet, stored as JS modules that hold the
 * model.json and base64 weight shards.
 */
function loadEmbeddedMobileNetV2(): ModelArtifacts {
  const root = extraDir("nsfwjs"); // installed on first use
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

const EMBEDDED: Record<string, () => ModelArtifacts> = { mobilenet_v2: loadEmbeddedMobileNetV2 };

/** What `tlrun plan` can say about a base without loading its weights. */
export interface BaseDescription {
  kind: "embedded" | "architecture" | "path" | "url";
  /** Stable identity of the weights, for cache keys. */
  weightsId: string;
  offline: boolean;
  note: string;
  /** An architecture's weights file still to download (not cached): what a run checks it can fetch before starting. */
  download?: { arch: Architecture; file: WeightsFile };
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
    return { kind: "architecture", weightsId: weightsIdentity(arch, w), offline, note, ...(!offline && w.kind === "url" ? { download: { arch, file: w } } : {}) };
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
