import type { ModelTopology } from "./topology";

/**
 * How a base model's weights expect their input pixels scaled. The pipeline's
 * `data.preprocessing` is one of these or "auto", which asks the model.
 */
export type ModelPreprocessing = "tf" | "caffe" | "torch" | "none";

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
  preprocessing: ModelPreprocessing;
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
