import type * as tf from "@tensorflow/tfjs";

/** An optimizer whose learning rate can change between epochs. */
export interface TunableOptimizer {
  applyGradients(grads: tf.NamedTensorMap): void;
  setLearningRate(lr: number): void;
  dispose(): void;
  /**
   * The tensors a step reads and replaces besides the variables, for a compiled step
   * (compiled-step.ts); absent when the optimizer keeps state a recording cannot carry.
   */
  state?(): { updated: tf.Variable[]; read: tf.Variable[] };
}
