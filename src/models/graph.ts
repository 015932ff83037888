import { foldForInference, type InferenceModel } from "./fold";
import { fastInference } from "./compiled";
import * as tf from "@tensorflow/tfjs";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { TlrunError } from "../errors";
import { buildBase } from "./build";
import { resolveCut } from "./layers";
import type { ModelArtifacts } from "./source";

/** The frozen base as the extract and evaluate stages use it: images in, one feature tensor out. */
export interface FeatureExtractor {
  /** A feature map [n, h, w, c] (a LayersModel cut, a graph model's spatial output) or a vector [n, c]. */
  predict(x: tf.Tensor4D): tf.Tensor;
  dispose(): void;
  /** How the forward pass runs: a compiled TensorFlow graph (native backend) or eagerly, and why. */
  readonly runner?: string;
}

/** A tfjs GraphModel from the artifacts, with its one output as features. */
export async function buildGraphBase(a: ModelArtifacts): Promise<FeatureExtractor> {
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
 * `size` with BatchNorm folded into its convs (fold.ts). On the native backend either one runs
 * as a compiled TensorFlow graph for batches of up to `batch` (native-graph.ts).
 */
export async function featureExtractor(a: ModelArtifacts, cut: string, size: [number, number], batch = 32): Promise<FeatureExtractor> {
  let inner: InferenceModel;
  if (a.graph) {
    const g = await buildGraphBase(a);
    inner = { predict: (x) => [g.predict(x as tf.Tensor4D)], folded: { batchNorms: 0, activations: 0, convs: 0 }, dispose: () => g.dispose() };
  } else {
    const base = await buildBase(a, resolveCut(a, cut), size);
    const folded = foldForInference(base);
    inner = { predict: (x) => folded.predict(x), folded: folded.folded, dispose: () => (folded.dispose(), base.dispose()) };
  }
  const fast = await fastInference(inner, [batch, size[0], size[1], 3]);
  return { predict: (x) => fast.predict(x)[0]!, dispose: () => fast.dispose(), runner: fast.runner };
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
