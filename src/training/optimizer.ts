import * as tf from "@tensorflow/tfjs";
import type { OptimizerName } from "../config/types";
import { FlatAdam } from "./flat-adam";

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

/** Adam runs flat (flat-adam.ts: the same weights in fewer ops); rmsprop and sgd are tfjs' own. */
export function makeOptimizer(name: OptimizerName, lr: number): TunableOptimizer {
  if (name === "adam") return new FlatAdam(lr);
  const optimizer = name === "rmsprop" ? tf.train.rmsprop(lr) : tf.train.sgd(lr);
  return {
    applyGradients: (g) => optimizer.applyGradients(g),
    // tfjs optimizers read `learningRate` on every step; it is not exposed as a setter.
    setLearningRate(next: number) {
      (optimizer as unknown as { learningRate: number }).learningRate = next;
    },
    dispose: () => optimizer.dispose(),
  };
}
