import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { selectBackend } from "../../src/backend/select";
import { FlatAdam } from "../../src/training/flat-adam";

/** Variables of several shapes (a conv kernel, a bias, a scalar), seeded, and a loss that depends on all of them. */
function problem(tag: string): { vars: tf.Variable[]; loss: () => tf.Scalar } {
  const shapes = [[3, 3, 4, 8], [8], [5, 2], []];
  const vars = shapes.map((s, i) => tf.variable(tf.randomNormal(s, 0, 1, "float32", 11 + i), true, `${tag}/w${i}`));
  const loss = (): tf.Scalar =>
    tf.tidy(() => vars.reduce((acc, v, i) => tf.add(acc, tf.sum(tf.mul(tf.sin(tf.mul(v, i + 1)), tf.square(v)))), tf.scalar(0)) as tf.Scalar);
  return { vars, loss };
}

test("FlatAdam gives exactly tf.train.adam's weights, step after step, learning rate changes included", async () => {
  await selectBackend("auto");
  const ours = problem("flat"), theirs = problem("tfjs");
  const before = tf.memory().numTensors;
  const flat = new FlatAdam(0.01);
  const adam: tf.Optimizer = tf.train.adam(0.01);
  let afterFirst = 0;
  for (let step = 0; step < 12; step++) {
    if (step === 6) flat.setLearningRate(0.003), ((adam as unknown as { learningRate: number }).learningRate = 0.003);
    const a = tf.variableGrads(ours.loss, ours.vars);
    flat.applyGradients(a.grads);
    const b = tf.variableGrads(theirs.loss, theirs.vars);
    adam.applyGradients(b.grads);
    tf.dispose([a.value, b.value, ...Object.values(a.grads), ...Object.values(b.grads)]);
    if (step === 0) afterFirst = tf.memory().numTensors; // the moments now exist
  }
  assert.equal(tf.memory().numTensors, afterFirst, "no tensors left behind by a step");
  ours.vars.forEach((v, i) => assert.deepEqual(v.dataSync(), theirs.vars[i]!.dataSync(), `variable ${i}`));
  assert.notDeepEqual(ours.vars[0]!.dataSync(), tf.tidy(() => tf.randomNormal([3, 3, 4, 8], 0, 1, "float32", 11).dataSync()), "the weights moved");
  flat.dispose();
  adam.dispose();
  assert.equal(tf.memory().numTensors, before, "disposing the optimizers frees all they made");
  tf.dispose([...ours.vars, ...theirs.vars]);
});

test("FlatAdam refuses a step whose variables differ from the first step's", async () => {
  await selectBackend("auto");
  const { vars, loss } = problem("mismatch");
  const flat = new FlatAdam(0.01);
  const { value, grads } = tf.variableGrads(loss, vars);
  flat.applyGradients(grads);
  const fewer = { [vars[0]!.name]: grads[vars[0]!.name]! };
  assert.throws(() => flat.applyGradients(fewer), /not those of the first step/);
  tf.dispose([value, ...Object.values(grads), ...vars]);
  flat.dispose();
});
