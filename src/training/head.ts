import * as tf from "@tensorflow/tfjs";
import type { HeadConfig } from "../config/types";
import { SeededDropout } from "../models/seeded-dropout";

/** Units of the output layer: one sigmoid unit for two classes, else one softmax unit per class. */
export function outputUnits(head: HeadConfig, classes: number): number {
  return head.output === "sigmoid" ? 1 : classes;
}

/**
 * The new classification head on pooled features: dense layers with dropout, then the output;
 * with `head.depths`, a BatchNorm first (head_norm, see fixedNorm).
 * Layer names are fixed (head_dense_0, …, head_output) so weights map by name across runs.
 */
export function buildHead(head: HeadConfig, featureDim: number, classes: number, seed: number): tf.Sequential {
  const model = tf.sequential({ name: "head" });
  model.add(tf.layers.inputLayer({ inputShape: [featureDim], name: "head_input" }));
  if (head.depths) model.add(fixedNorm());
  for (const l of denseLayers(head, classes, seed)) model.add(l);
  return model;
}

/** The name of the first layer of a head on several depths. */
export const HEAD_NORM = "head_norm";

/**
 * Features pooled at several depths come on scales orders of magnitude apart (a projection's
 * signed values beside out_relu's 0..6): this BatchNorm puts each feature on one. It always
 * normalises with its moving statistics, which setNormStats fixes from the training rows before
 * the head trains, so a step assigns nothing and compiles, and a run repeats exactly; gamma and
 * beta train. Saved as a plain BatchNormalization, which computes the same at inference.
 */
function fixedNorm(): tf.layers.Layer {
  const norm = tf.layers.batchNormalization({ name: HEAD_NORM });
  const call = norm.call.bind(norm);
  norm.call = (inputs, kwargs) => call(inputs, { ...kwargs, training: false });
  return norm;
}

/** Fix a head's head_norm statistics: per-feature mean and variance of the rows it trains on. */
export function setNormStats(model: tf.LayersModel, mean: Float32Array, variance: Float32Array): void {
  const norm = model.getLayer(HEAD_NORM);
  const [gamma, beta] = norm.getWeights(); // the variables themselves, not copies
  const fixed = [tf.tensor1d(mean), tf.tensor1d(variance)];
  norm.setWeights([gamma!, beta!, ...fixed]);
  tf.dispose(fixed);
}

/** The head's layers after pooling, in order: dense layers with their dropout, dropout, output. */
export function denseLayers(head: HeadConfig, classes: number, seed: number): tf.layers.Layer[] {
  const reg = head.l2 > 0 ? tf.regularizers.l2({ l2: head.l2 }) : undefined;
  const out: tf.layers.Layer[] = [];
  head.layers.forEach((l, i) => {
    out.push(tf.layers.dense({ units: l.units, activation: l.activation, name: `head_dense_${i}`,
      kernelInitializer: tf.initializers.glorotUniform({ seed: seed + i }), kernelRegularizer: reg }));
    if (l.dropout > 0) out.push(new SeededDropout({ rate: l.dropout, name: `head_dropout_${i}`, seed: seed + 100 + i }));
  });
  if (head.dropout > 0) out.push(new SeededDropout({ rate: head.dropout, name: "head_dropout", seed: seed + 200 }));
  out.push(tf.layers.dense({ units: outputUnits(head, classes), activation: head.output, name: "head_output",
    kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 300 }), kernelRegularizer: reg }));
  return out;
}

/**
 * The last hidden layer's own dropout and head.dropout, when both act on its units one after the
 * other (so a user who reads them as Keras' one Dropout layer each sees what they add up to): the
 * two rates and the share of units dropped in effect, 1 - (1 - a)(1 - b).
 */
export function stackedDropout(head: HeadConfig): { layer: number; index: number; head: number; effective: number } | undefined {
  const index = head.layers.length - 1;
  const last = head.layers[index];
  if (!last || !(last.dropout > 0) || !(head.dropout > 0)) return undefined;
  return { layer: last.dropout, index, head: head.dropout, effective: 1 - (1 - last.dropout) * (1 - head.dropout) };
}

/**
 * Cross-entropy matching the output activation, plus the head's L2 penalty. With per-example
 * weights `w` ([n], from `train.class_weight`) the cross-entropy is sum_i(w_i * ce_i) / n, as
 * Keras reduces a loss with sample weights (SUM_OVER_BATCH_SIZE: divided by the batch size, not
 * by the sum of the weights), so `balanced` weights keep the loss on the unweighted scale on
 * average. Without `w` it is the plain mean.
 */
export function headLoss(model: tf.LayersModel, y: tf.Tensor, probs: tf.Tensor, w?: tf.Tensor): tf.Scalar {
  return tf.tidy(() => {
    const p = tf.clipByValue(probs, 1e-7, 1 - 1e-7);
    const perExample =
      probs.shape[1] === 1
        ? tf.neg(tf.sum(tf.add(tf.mul(y, tf.log(p)), tf.mul(tf.sub(1, y), tf.log(tf.sub(1, p)))), 1))
        : tf.neg(tf.sum(tf.mul(y, tf.log(p)), 1));
    const ce = tf.mean(w ? tf.mul(perExample, w) : perExample);
    const penalties = model.calculateLosses();
    return (penalties.length ? tf.addN([ce, ...penalties]) : ce) as tf.Scalar;
  });
}

/** Targets for a batch of integer labels. */
export function targets(labels: ArrayLike<number>, classes: number, sigmoid: boolean): tf.Tensor {
  const idx = tf.tensor1d(Array.from(labels), "int32");
  const y = sigmoid ? tf.cast(tf.reshape(idx, [-1, 1]), "float32") : tf.oneHot(idx, classes);
  if (y !== idx) idx.dispose();
  return y;
}
