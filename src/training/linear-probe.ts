import * as tf from "@tensorflow/tfjs";

/** Rows of features with their class labels, row-major (`rows x dim`). */
export interface LabelledRows {
  x: Float32Array;
  y: Int32Array;
}

export interface ProbeFitOptions {
  classes: number;
  dim: number;
  /** Full-batch Adam steps. */
  steps?: number;
  learningRate?: number;
  /** L2 penalty on the weights, so that 1,280 features on a few hundred images do not just memorise them. */
  l2?: number;
}

/**
 * A linear probe: softmax regression on standardised features (train's mean and spread), fitted
 * full-batch from zero weights, so the result depends on the rows alone. Returns the accuracy on
 * `val`. Every tensor it makes is disposed before it returns.
 */
export function linearProbeAccuracy(train: LabelledRows, val: LabelledRows, opts: ProbeFitOptions): number {
  const { classes: k, dim } = opts;
  const steps = opts.steps ?? 300;
  const l2 = opts.l2 ?? 1e-3;
  // made inside tidy so that the zeros they start from go with it (tidy keeps variables)
  const w = tf.tidy(() => tf.variable(tf.zeros([dim, k])));
  const b = tf.tidy(() => tf.variable(tf.zeros([k])));
  const optimizer = tf.train.adam(opts.learningRate ?? 0.01);
  try {
    return tf.tidy(() => {
      const xt = tf.tensor2d(train.x, [train.y.length, dim]);
      const mean = tf.mean(xt, 0);
      const std = tf.add(tf.sqrt(tf.mean(tf.square(tf.sub(xt, mean)), 0)), 1e-6);
      const norm = (x: tf.Tensor) => tf.div(tf.sub(x, mean), std);
      const xs = norm(xt);
      const ys = tf.oneHot(tf.tensor1d(train.y, "int32"), k);
      for (let i = 0; i < steps; i++)
        optimizer.minimize(() => tf.add(tf.losses.softmaxCrossEntropy(ys, tf.add(tf.matMul(xs, w), b)), tf.mul(l2, tf.sum(tf.square(w)))) as tf.Scalar);
      const xv = norm(tf.tensor2d(val.x, [val.y.length, dim]));
      const predicted = tf.argMax(tf.add(tf.matMul(xv, w), b), 1).dataSync();
      let right = 0;
      for (let i = 0; i < val.y.length; i++) if (predicted[i] === val.y[i]) right++;
      return right / Math.max(1, val.y.length);
    });
  } finally {
    optimizer.dispose();
    w.dispose();
    b.dispose();
  }
}
