import { foldForInference, type InferenceModel } from "./fold";
import { inferenceEngine } from "./engine";
import * as tf from "@tensorflow/tfjs";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { TlrunError } from "../errors";
import { hashRecord } from "../util/hash";
import { buildBase } from "./build";
import { resolveCut } from "./layers";
import { depthMaps } from "./head-depths";
import type { ModelArtifacts } from "./artifacts";

/** The frozen base as the extract stage uses it: images in, feature rows out. */
export interface FeatureExtractor {
  /** A feature map [n, h, w, c] (a LayersModel cut, a graph model's spatial output) or a vector [n, c], computed eagerly. */
  predict(x: tf.Tensor4D): tf.Tensor;
  /**
   * The rows the feature cache holds for `n` images in host memory ([n, h, w, 3] float32): each
   * the map's average and max over its spatial axes side by side (a vector twice), or with
   * `spatial` the whole map, flattened. This is the compiled path: pooling runs inside the graph.
   */
  rows(x: Float32Array, n: number): Float32Array;
  /** One image's feature map [h, w, c] or vector [c], as `predict` gives it without the batch dim; with depths, [the joined width]. */
  readonly featureShape: number[];
  /** With depths: each depth's channels, then the cut's, as they are joined in a row's halves. */
  readonly depthDims?: number[];
  /** `rows` on the inference workers when featureExtractor was asked for them (`workers`); `x` is copied before this returns. */
  rowsAsync(x: Float32Array, n: number): Promise<Float32Array>;
  dispose(): void;
  /** How the forward pass runs: compiled to ONNX Runtime on the native backend, or eagerly, and why (engine.ts). */
  readonly runner?: string;
}

/** A tfjs GraphModel from the artifacts, with its one output as features. */
export async function buildGraphBase(a: ModelArtifacts): Promise<Pick<FeatureExtractor, "predict" | "dispose">> {
  const g = a.graph!;
  const model = await tf.loadGraphModel(tf.io.fromMemory({
    format: "graph-model",
    modelTopology: g.modelTopology as tf.io.ModelArtifacts["modelTopology"],
    weightSpecs: a.weightSpecs as tf.io.WeightsManifestEntry[],
    weightData: a.weightData,
    signature: g.signature as tf.io.ModelArtifacts["signature"],
    userDefinedMetadata: g.userDefinedMetadata,
  }));
  if (model.outputs.length !== 1) {
    model.dispose();
    throw new TlrunError(`${a.origin}: has ${model.outputs.length} outputs (${model.outputs.map((o) => o.name).join(", ")}); tlrun extracts features from a graph model with one output, such as a TF-Hub feature vector`, 1);
  }
  return {
    predict: (x) => {
      const y = model.predict(x) as tf.Tensor;
      if (y.rank !== 2 && y.rank !== 4) {
        y.dispose();
        throw new TlrunError(`${a.origin}: its output has shape [${y.shape.join(", ")}]; tlrun needs a feature vector [batch, features] or a feature map [batch, height, width, channels]`, 1);
      }
      return y;
    },
    dispose: () => model.dispose(),
  };
}

/**
 * The base for extraction: a graph model as it is, or a LayersModel cut at `cut` and sized for
 * `size` with BatchNorm folded into its convs (fold.ts). Its `rows` (forward pass and pooling,
 * or the whole map when `spatial`) runs compiled for batches of up to `batch` on the native
 * backend (engine.ts), and `rowsAsync` on `workers` ONNX Runtime sessions when given.
 */
export async function featureExtractor(
  a: ModelArtifacts, cut: string, size: [number, number], opts: { batch?: number; spatial?: boolean; depths?: readonly string[]; workers?: { workers: number; threads: number } } = {},
): Promise<FeatureExtractor> {
  const depths = opts.depths ?? [];
  const batch = opts.batch ?? 32;
  let inner: InferenceModel;
  let symbolic: Array<number | null> | undefined;
  let depthDims: number[] | undefined;
  if (a.graph) {
    const g = await buildGraphBase(a);
    inner = { predict: (x) => [g.predict(x as tf.Tensor4D)], folded: { batchNorms: 0, activations: 0, convs: 0 }, dispose: () => g.dispose() };
  } else {
    const base = await buildBase(a, resolveCut(a, cut), size);
    // with depths, the maps of those layers too, before the cut's: a layer read here is never fused with the next (fold.ts)
    const read = depths.length ? tf.model({ inputs: base.inputs, outputs: [...depthMaps(base, depths), base.outputs[0]!] }) : base;
    const folded = foldForInference(read);
    inner = { predict: (x) => folded.predict(x), folded: folded.folded, dispose: () => (folded.dispose(), base.dispose()) };
    if (depths.length) depthDims = read.outputs.map((o) => o.shape[o.shape.length - 1] as number);
    symbolic = depthDims ? [depthDims.reduce((sum, d) => sum + d, 0)] : base.outputs[0]!.shape.slice(1);
  }
  // the cut's symbolic shape when it is known: an eager pass over a blank image cost ~100 ms per extract
  const featureShape = symbolic?.every((d) => typeof d === "number") ? (symbolic as number[])
    : tf.tidy(() => inner.predict(tf.zeros([1, size[0], size[1], 3]))[0]!.shape.slice(1));
  const rowsOf = (x: tf.Tensor | tf.Tensor[]): tf.Tensor[] => {
    if (depths.length) {
      const maps = inner.predict(x); // every depth's map pooled (a vector is pooled already), joined shallow to deep: averages, then maxima
      return [tf.concat([...maps.map((m) => poolFeatures(m, "avg")), ...maps.map((m) => poolFeatures(m, "max"))], 1)];
    }
    const fm = inner.predict(x)[0]!;
    if (opts.spatial) return [fm.rank === 4 ? tf.reshape(fm, [fm.shape[0]!, -1]) : fm];
    return [fm.rank === 2 ? tf.concat([fm, fm], 1) : tf.concat([tf.mean(fm, [1, 2]), tf.max(fm, [1, 2])], 1)];
  };
  // the rows are a function of the weights, the architecture up to the cut and the input size
  const cacheKey = hashRecord({ rows: opts.spatial ? "spatial" : "avg|max", weights: a.weightsSha256, cut, size, model: a.graph ?? a.topology, ...(depths.length ? { depths } : {}) });
  const fast = await inferenceEngine().forward({ predict: rowsOf, folded: inner.folded, dispose: () => inner.dispose() }, [batch, size[0], size[1], 3], { workers: opts.workers, cacheKey });
  return {
    predict: (x) => tf.tidy(() => inner.predict(x)[depths.length]!), // the cut's map
    rows: (x, n) => fast.predictHost(x, n, [size[0], size[1], 3])[0]!,
    rowsAsync: async (x, n) => (await fast.predictHostAsync(x, n, [size[0], size[1], 3]))[0]!,
    dispose: () => fast.dispose(),
    runner: fast.runner,
    featureShape,
    ...(depthDims ? { depthDims } : {}),
  };
}

/** Pool a feature map over its spatial axes; a feature vector is already pooled. */
export function poolFeatures(fm: tf.Tensor, pooling: "avg" | "max"): tf.Tensor {
  if (fm.rank === 2) return fm.clone();
  return pooling === "avg" ? tf.mean(fm, [1, 2]) : tf.max(fm, [1, 2]);
}

/** Write a graph model's artifacts back as a tfjs graph-model folder (model.json + weights.bin). */
export function saveGraphModel(a: ModelArtifacts, dir: string): void {
  const g = a.graph!;
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "weights.bin"), new Uint8Array(a.weightData));
  writeFileSync(join(dir, "model.json"), JSON.stringify({
    format: "graph-model", generatedBy: a.origin, convertedBy: "tlrun", modelTopology: g.modelTopology,
    ...(g.signature ? { signature: g.signature } : {}), ...(g.userDefinedMetadata ? { userDefinedMetadata: g.userDefinedMetadata } : {}),
    weightsManifest: [{ paths: ["weights.bin"], weights: a.weightSpecs }],
  }));
}
