import * as tf from "@tensorflow/tfjs";
import type { OptimizerName } from "../config/types";
import { FlatAdam } from "./flat-adam";
import { fromHost, toHost } from "./host-tensor";
import type { TunableOptimizer } from "./tunable-optimizer";

export type { TunableOptimizer };

/** Adam runs flat (flat-adam.ts: the same weights in fewer ops); rmsprop and sgd are tfjs' own. */
export function makeOptimizer(name: OptimizerName, lr: number): TunableOptimizer {
  if (name === "adam") return new FlatAdam(lr);
  const optimizer = name === "rmsprop" ? tf.train.rmsprop(lr) : tf.train.sgd(lr);
  return {
    applyGradients: (g) => optimizer.applyGradients(g),
    // rmsprop reads `learningRate` on every step; sgd keeps its own copy of -rate as a tensor,
    // which only its setLearningRate renews (setting the field alone left sgd at its first rate).
    setLearningRate(next: number) {
      // (tfjs' Symbol.hasInstance makes every optimizer `instanceof SGDOptimizer`: test the method)
      const sgd = optimizer as unknown as { setLearningRate?: (lr: number) => void; learningRate: number };
      if (typeof sgd.setLearningRate === "function") sgd.setLearningRate(next);
      else sgd.learningRate = next;
    },
    // tfjs' own: the iteration count first, then each accumulator (rmsprop), by position
    async saveState() {
      const weights = await optimizer.getWeights();
      const tensors = await Promise.all(weights.map((w) => toHost(w.tensor)));
      weights[0]?.tensor.dispose(); // the count is a scalar made for this call; the rest are the optimizer's own
      return { names: weights.map((w) => w.name), tensors };
    },
    async loadState(s) {
      const tensors = s.tensors.map(fromHost);
      try {
        await optimizer.setWeights(s.names.map((name, i) => ({ name, tensor: tensors[i]! })));
      } finally {
        tf.dispose(tensors);
      }
    },
    dispose: () => optimizer.dispose(),
  };
}
