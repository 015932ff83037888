import * as tf from "@tensorflow/tfjs";
import type { CamBase } from "./grad-cam-model";

/** How the base's feature map reaches the head: pooled, or whole for a head that pools by itself (attention). */
export type CamPooling = "avg" | "max" | "none";

/**
 * The head's output before its activation (the logits), on `x`: its layers in order, with the
 * last Dense computed without its softmax or sigmoid. Grad-CAM explains a logit, not a
 * probability: a confident probability is flat, so its gradient vanishes and the map with it.
 */
function headLogits(head: tf.LayersModel, x: tf.Tensor): tf.Tensor {
  const outs = new Map<string, tf.Tensor>();
  const last = head.layers[head.layers.length - 1]!;
  let y = x;
  for (const l of head.layers) {
    if (l.getClassName() === "InputLayer") continue;
    const from = l.inboundNodes[0]!.inboundLayers.map((p) => outs.get(p.name) ?? x); // the head's input layer, listed or not
    const input = from.length === 1 ? from[0]! : from;
    if (l === last && l.getClassName() === "Dense") {
      const [kernel, bias] = l.weights.map((w) => w.read());
      y = tf.matMul(input as tf.Tensor, kernel!);
      if (bias) y = tf.add(y, bias);
    } else y = l.apply(input, { training: false }) as tf.Tensor;
    outs.set(l.name, y);
  }
  return y;
}

/** The score to explain per image: the logit of class `target[i]`; for one sigmoid unit, +logit for class 1, -logit for class 0. */
function targetWeights(target: number[], units: number): tf.Tensor {
  return units === 1 ? tf.tensor2d(target.map((c) => (c === 1 ? 1 : -1)), [target.length, 1]) : tf.oneHot(tf.tensor1d(target, "int32"), units);
}

/**
 * Grad-CAM (Selvaraju et al. 2017) of a batch of preprocessed images `x` [n, h, w, 3] for the
 * classes `target`: with A the activations at the explained layer and S the class logit,
 * map = relu(sum_c mean_xy(dS/dA)_c * A_c), divided by its maximum per image (all zero where
 * nothing speaks for the class). Returns the maps [n, mh, mw] flattened, and [mh, mw]. `below`:
 * for a head on several depths, the pooled features it reads before the cut's ([n, d]).
 */
export function gradCam(cam: CamBase, head: tf.LayersModel, pooling: CamPooling, x: tf.Tensor4D, target: number[], below?: tf.Tensor): { maps: Float32Array; size: [number, number] } {
  const out = tf.tidy(() => {
    const predicted = cam.bottom.predict(x);
    const acts = Array.isArray(predicted) ? predicted : [predicted];
    const activation = acts[cam.at]!;
    const pool = (fm: tf.Tensor): tf.Tensor => (pooling === "avg" ? tf.mean(fm, [1, 2]) : pooling === "max" ? tf.max(fm, [1, 2]) : fm);
    const score = (a: tf.Tensor): tf.Tensor => {
      const ins = acts.map((t, i) => (i === cam.at ? a : t));
      const fm = cam.top ? (cam.top.apply(ins.length === 1 ? ins[0]! : ins, { training: false }) as tf.Tensor) : a;
      const logits = headLogits(head, below ? tf.concat([below, pool(fm)], 1) : pool(fm));
      return tf.sum(tf.mul(logits, targetWeights(target, logits.shape[1]!)));
    };
    const grads = tf.grad(score)(activation);
    const weights = tf.mean(grads, [1, 2], true);
    const map = tf.relu(tf.sum(tf.mul(activation, weights), -1));
    return tf.div(map, tf.maximum(tf.max(map, [1, 2], true), 1e-12));
  });
  const [, mh, mw] = out.shape as number[];
  const maps = out.dataSync() as Float32Array;
  out.dispose();
  return { maps, size: [mh!, mw!] };
}
