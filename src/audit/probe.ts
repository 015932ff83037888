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
  const rows = (idx: ArrayLike<number>): Float32Array => {
    const m = new Float32Array(idx.length * d);
    for (let i = 0; i < idx.length; i++) m.set(x.subarray(idx[i]! * d, (idx[i]! + 1) * d), i * d);
    return m;
  };
  // each minibatch is copied out of `x` as it is drawn: the whole training fold as one tensor is
  // most of the features again (0.8 GB at 100k images), for steps × batch rows actually read
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
        return train[order[at++]!]!;
      });
      tf.tidy(() => {
        const xb = tf.tensor2d(rows(pick), [pick.length, d]);
        const yb = tf.oneHot(tf.tensor1d(Int32Array.from(pick, (i) => labels[i]!), "int32"), classes).toFloat();
        optimizer.minimize(() => tf.losses.softmaxCrossEntropy(yb, xb.matMul(w).add(b)).add(w.square().sum().mul(opts.l2 / 2)) as tf.Scalar, false, [w, b]);
      });
    }
    const out = new Float32Array(held.length * classes);
    for (let h0 = 0; h0 < held.length; h0 += PREDICT_ROWS) {
      const part = held.slice(h0, h0 + PREDICT_ROWS);
      out.set(read(tf.tidy(() => tf.softmax(tf.tensor2d(rows(part), [part.length, d]).matMul(w).add(b)))), h0 * classes);
    }
    return out;
  } finally {
    tf.dispose([w, b]);
    optimizer.dispose();
  }
}

/** Held-out rows scored a block at a time, for the same reason the batches are copied as drawn. */
const PREDICT_ROWS = 4096;

/** A variable of zeros; the zeros tensor itself is released, or each fit would leave it behind. */
function zeroVariable(shape: number[]): tf.Variable {
  const z = tf.zeros(shape);
  try {
    return tf.variable(z);
  } finally {
    z.dispose();
  }
}
