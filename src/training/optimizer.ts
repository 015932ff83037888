import * as tf from "@tensorflow/tfjs";
import type { OptimizerName } from "../config/types";

/** A tfjs optimizer whose learning rate can change between epochs. */
export interface TunableOptimizer {
  optimizer: tf.Optimizer;
  setLearningRate(lr: number): void;
}

export function makeOptimizer(name: OptimizerName, lr: number): TunableOptimizer {
  const optimizer =
    name === "adam" ? tf.train.adam(lr) : name === "rmsprop" ? tf.train.rmsprop(lr) : tf.train.sgd(lr);
  return {
    optimizer,
    // tfjs optimizers read `learningRate` on every step; it is not exposed as a setter.
    setLearningRate(next: number) {
      (optimizer as unknown as { learningRate: number }).learningRate = next;
    },
  };
}
