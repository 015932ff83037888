import * as tf from "@tensorflow/tfjs";
import type { HeadConfig, PipelineConfig } from "../config/types";
import { ATTENTION_ARCHITECTURES } from "../models/zoo/attention-vgg";
import { denseLayers } from "./head";

/** Name of the layer whose output is the attention map (one weight per position, summing to 1). */
export const ATTENTION_LAYER = "attention_map";

/** Channels of the hidden 1x1 convolution that scores each position. */
export const ATTENTION_UNITS = 128;

/** Whether the pipeline's head pools by spatial attention (and so needs whole feature maps). */
export function spatialHead(config: Pick<PipelineConfig, "base">): boolean {
  return ATTENTION_ARCHITECTURES.includes(config.base.model);
}

/**
 * The attention-gated head on a [h, w, c] feature map (Jetley et al. 2018, "parametrised
 * compatibility"): a 1x1 conv (ReLU) and a 1x1 conv to one score per position, a softmax over
 * the h*w positions (the attention map), and the attention-weighted sum of the feature vectors,
 * which then goes through the configured dense layers. The score conv starts at zero, so the
 * untrained map is uniform and the head starts as global average pooling.
 */
export function buildAttentionHead(head: HeadConfig, shape: [number, number, number], classes: number, seed: number): tf.LayersModel {
  const [h, w, c] = shape;
  const input = tf.input({ shape, name: "head_input" });
  const hidden = tf.layers.conv2d({ filters: ATTENTION_UNITS, kernelSize: 1, activation: "relu", name: "attention_conv",
    kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 400 }) }).apply(input) as tf.SymbolicTensor;
  const score = tf.layers.conv2d({ filters: 1, kernelSize: 1, name: "attention_score", kernelInitializer: "zeros" }).apply(hidden) as tf.SymbolicTensor;
  const flat = tf.layers.reshape({ targetShape: [h * w], name: "attention_flatten" }).apply(score) as tf.SymbolicTensor;
  const map = tf.layers.softmax({ name: ATTENTION_LAYER }).apply(flat) as tf.SymbolicTensor;
  const weights = tf.layers.reshape({ targetShape: [h * w, 1], name: "attention_weights" }).apply(map) as tf.SymbolicTensor;
  const vectors = tf.layers.reshape({ targetShape: [h * w, c], name: "attention_features" }).apply(input) as tf.SymbolicTensor;
  const summed = tf.layers.dot({ axes: 1, name: "attention_pool" }).apply([vectors, weights]) as tf.SymbolicTensor;
  let x = tf.layers.flatten({ name: "attention_pooled" }).apply(summed) as tf.SymbolicTensor;
  for (const l of denseLayers(head, classes, seed)) x = l.apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: x, name: "head" });
}

/**
 * Apply a head model's layers to `x` (the base's output), following the head's own graph; for
 * joining base and head into one LayersModel without nesting a model inside another. Returns
 * every layer's new output by layer name.
 */
export function rewire(head: tf.LayersModel, x: tf.SymbolicTensor): Map<string, tf.SymbolicTensor> {
  const out = new Map<string, tf.SymbolicTensor>();
  for (const l of head.layers) {
    if (l.getClassName() === "InputLayer") {
      out.set(l.name, x);
      continue;
    }
    const from = l.inboundNodes[0]!.inboundLayers.map((p) => out.get(p.name) ?? x); // the head's input layer, listed or not
    out.set(l.name, l.apply(from.length === 1 ? from[0]! : from) as tf.SymbolicTensor);
  }
  return out;
}
