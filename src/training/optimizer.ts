import * as tf from "@tensorflow/tfjs";
import type { OptimizerName } from "../config/types";
import { FlatAdam } from "./flat-adam";
import type { TunableOptimizer } from "./tunable-optimizer";

export type { TunableOptimizer };

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
