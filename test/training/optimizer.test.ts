import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { makeOptimizer } from "../../src/training/optimizer";

for (const name of ["sgd", "rmsprop", "adam"] as const) {
  test(`${name}: a rate set after construction is the rate the next step uses`, () => {
    const step = (lr: number): number => {
      const w = tf.variable(tf.scalar(0), true, `opt_${name}_${lr}_${Math.random()}`);
      const opt = makeOptimizer(name, 1);
      try {
        opt.setLearningRate(lr);
        opt.applyGradients({ [w.name]: tf.scalar(1) });
        return Math.abs(w.dataSync()[0]!);
      } finally {
        opt.dispose();
        w.dispose();
      }
    };
    const [small, large] = [step(0.001), step(0.01)];
    assert.ok(small > 0 && Math.abs(large / small - 10) < 1e-3, `steps ${small} and ${large} should be 10x apart`);
  });
}
