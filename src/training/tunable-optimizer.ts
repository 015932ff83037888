import type * as tf from "@tensorflow/tfjs";
import type { OptimizerState } from "./checkpoint";

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
  /** Every slot and counter a step reads and replaces, copied to the host for a checkpoint. */
  saveState(): Promise<OptimizerState>;
  /** Put back what saveState gave, on a fresh optimizer of `variables` (its group's, in order), before its first step. */
  loadState(state: OptimizerState, variables: tf.Variable[]): Promise<void>;
}
