import * as tf from "@tensorflow/tfjs";
import { Rng } from "../util/rng";
import { read } from "./neighbours";

/** How the linear probe is fitted; see docs/audit.md for why these values. */
export interface ProbeOptions {
  /** L2 penalty on the weights: loss = mean cross-entropy + l2/2 · Σw². */
  l2: number;
  /** Optimizer steps per fit, each on a minibatch: bounds the cost however many images there are. */
  steps: number;
  batch: number;
  learningRate: number;
  seed: number;
  /** Called between steps: the fits are synchronous and hold the event loop (see keepLocksAlive). */
  tick?: () => void;
}

/**
 * Out-of-sample class probabilities from a softmax regression: for each fold f, a probe fitted on
 * the other folds predicts fold f's items, so no item's probability has seen its own label (the
 * premise of confident learning). `x` is n × d (standardised), returns n × classes.
 */
export function outOfFoldProbabilities(x: Float32Array, d: number, labels: Int32Array, classes: number, folds: Int32Array, opts: ProbeOptions): Float32Array {
  const n = labels.length;
  const out = new Float32Array(n * classes);
  const k = Math.max(...folds) + 1;
  for (let f = 0; f < k; f++) {
    const train: number[] = [];
    const held: number[] = [];
    for (let i = 0; i < n; i++) (folds[i] === f ? held : train).push(i);
    if (held.length === 0) continue;
    const p = fitAndPredict(x, d, labels, classes, train, held, { ...opts, seed: opts.seed + f });
    held.forEach((i, r) => out.set(p.subarray(r * classes, (r + 1) * classes), i * classes));
  }
  return out;
}

/** Fit on rows `train`, return the probabilities of rows `held` (held.length × classes). */
export function fitAndPredict(
  x: Float32Array, d: number, labels: Int32Array, classes: number, train: readonly number[], held: readonly number[], opts: ProbeOptions,
): Float32Array {
  const rows = (idx: readonly number[]): Float32Array => {
    const m = new Float32Array(idx.length * d);
    idx.forEach((r, i) => m.set(x.subarray(r * d, (r + 1) * d), i * d));
    return m;
  };
  const xt = tf.tensor2d(rows(train), [train.length, d]);
  const yt = tf.tidy(() => tf.oneHot(tf.tensor1d(Int32Array.from(train, (i) => labels[i]!), "int32"), classes).toFloat());
  const w = zeroVariable([d, classes]);
  const b = zeroVariable([classes]);
  const optimizer = tf.train.adam(opts.learningRate);
  const rng = new Rng(opts.seed);
  try {
    const order = rng.shuffle(Array.from(train, (_, i) => i));
    let at = 0;
    for (let s = 0; s < opts.steps; s++) {
      opts.tick?.();
      const pick = Int32Array.from({ length: Math.min(opts.batch, order.length) }, () => {
        if (at >= order.length) (at = 0), rng.shuffle(order);
        return order[at++]!;
      });
      tf.tidy(() => {
        const idx = tf.tensor1d(pick, "int32");
        const xb = tf.gather(xt, idx);
        const yb = tf.gather(yt, idx);
        optimizer.minimize(() => tf.losses.softmaxCrossEntropy(yb, xb.matMul(w).add(b)).add(w.square().sum().mul(opts.l2 / 2)) as tf.Scalar, false, [w, b]);
      });
    }
    return read(tf.tidy(() => tf.softmax(tf.tensor2d(rows(held), [held.length, d]).matMul(w).add(b)))) as Float32Array;
  } finally {
    tf.dispose([xt, yt, w, b]);
    optimizer.dispose();
  }
}

/** A variable of zeros; the zeros tensor itself is released, or each fit would leave it behind. */
function zeroVariable(shape: number[]): tf.Variable {
  const z = tf.zeros(shape);
  try {
    return tf.variable(z);
  } finally {
    z.dispose();
  }
}
