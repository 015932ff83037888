import * as tf from "@tensorflow/tfjs";
import { TlrunError } from "../errors";
import { foldForInference } from "../models/fold";
import { nativeBackend, recordOnSample, Unsupported, type Trace } from "../models/trace";
import { toClassProbs } from "../stages/features-data";
import { dynamicBatch } from "./dynamic-batch";

/** The two batch sizes the classifier is recorded at; what differs between the recordings follows the batch (dynamic-batch.ts). */
export const TRACE_BATCHES = [3, 5] as const;

/**
 * The whole classifier (base + head, BatchNorm folded) as the TensorFlow ops it runs, recorded
 * once and rewritten for any batch size: what both the ONNX and the SavedModel writers start
 * from. The output is one probability per class, in the run's class order: a one-unit sigmoid
 * head's p becomes [1 − p, p], as evaluate and predict read it.
 */
export function classifierTrace(model: tf.LayersModel, inputSize: [number, number]): Trace {
  const backend = nativeBackend();
  if (typeof backend === "string") throw new TlrunError(`exporting records the model on the native TensorFlow backend, and this process runs ${backend}`);
  const folded = foldForInference(model);
  try {
    const [a, b] = TRACE_BATCHES.map((n) => recordOnSample(backend, (x) => [toClassProbs(folded.predict(x)[0]!)], [n, ...inputSize, 3]));
    return dynamicBatch(a!, b!);
  } catch (err) {
    if (err instanceof Unsupported) throw new TlrunError(`the model cannot be recorded for export: ${err.message}`);
    throw err;
  } finally {
    folded.dispose();
  }
}

/** The tfjs model's class probabilities for `x` ([n, h, w, 3] preprocessed pixels), on the host. */
export function eagerProbabilities(model: tf.LayersModel, x: Float32Array, shape: [number, number, number, number]): Float32Array {
  return tf.tidy(() => toClassProbs(model.predict(tf.tensor4d(x, shape)) as tf.Tensor).dataSync() as Float32Array);
}
