import * as tf from "@tensorflow/tfjs";
import { join } from "node:path";
import { batches } from "../data/loader";
import type { Manifest } from "../data/manifest";
import { buildSplitBase } from "../models/build";
import { loadModel, saveModel } from "../models/io";
import { resolveCut } from "../models/layers";
import { TlrunError } from "../errors";
import { fit, type Batch } from "../training/fit";
import { headLoss, targets } from "../training/head";
import { Rng, deriveSeed } from "../util/rng";
import { augmentEnabled, imageOptions } from "./extract";
import { lossAndAccuracy, toClassProbs } from "./features-data";
import { readManifest } from "./prepare";
import { readUnfreeze } from "./unfreeze";
import { input, type Stage, type StageContext } from "./types";

type Item = { abs: string; label: number };

/** Frontier activations (the frozen part's outputs) for items, kept on the host. */
async function frontierOf(ctx: StageContext, bottom: tf.LayersModel, items: Item[]): Promise<Float32Array[]> {
  const parts: Float32Array[][] = [];
  const [h, w] = ctx.config.base.input_size;
  for await (const b of batches(items, imageOptions(ctx, 32))) {
    ctx.checkAbort();
    const outs = tf.tidy(() => [bottom.predict(tf.tensor4d(b.x, [b.n, h, w, 3]))].flat() as tf.Tensor[]);
    parts.push(outs.map((t) => t.dataSync() as Float32Array));
    tf.dispose(outs);
  }
  return bottom.outputs.map((_, j) => concat(parts.map((p) => p[j]!)));
}

function concat(chunks: Float32Array[]): Float32Array {
  const out = new Float32Array(chunks.reduce((n, c) => n + c.length, 0));
  let off = 0;
  for (const c of chunks) out.set(c, off), (off += c.length);
  return out;
}

/** Rows `idx` of host activations as tensors shaped like the top model's inputs. */
function gather(acts: Float32Array[], shapes: number[][], idx: number[]): tf.Tensor[] {
  return acts.map((a, j) => {
    const size = shapes[j]!.reduce((x, y) => x * y, 1);
    const out = new Float32Array(idx.length * size);
    idx.forEach((r, i) => out.set(a.subarray(r * size, (r + 1) * size), i * size));
    return tf.tensor(out, [idx.length, ...shapes[j]!]);
  });
}

/** fine-tune: train the unfrozen top of the base with the head, on images, with augmentation. */
export const fineTune: Stage = {
  name: "fine-tune",
  needsTf: true,
  needsConvGrad: true,
  async run(ctx) {
    if (!ctx.backend.canTrainConv)
      throw new TlrunError(`fine-tuning needs convolution gradients, which the ${ctx.backend.name} backend lacks; use --backend native or cpu`, 1);
    const phase = ctx.config.train.fine_tune!;
    const { seed, augment, head: headCfg } = ctx.config;
    const manifest: Manifest = readManifest(input(ctx, "prepare").dir);
    const spec = readUnfreeze(input(ctx, "unfreeze").dir);
    const a = ctx.artifacts();
    const split = await buildSplitBase(a, resolveCut(a, ctx.config.base.cut), ctx.config.base.input_size, spec.index);
    const head = await loadModel(join(input(ctx, "train-head").dir, "head"));
    try {
      const bnTrains = spec.batchnorm === "train";
      for (const l of split.top.layers) l.trainable = l.getClassName() !== "BatchNormalization" || bnTrains;
      const k = manifest.classes.length;
      const sigmoid = headCfg.output === "sigmoid";
      const pool = (fm: tf.Tensor): tf.Tensor => (headCfg.pooling === "avg" ? tf.mean(fm, [1, 2]) : tf.max(fm, [1, 2]));
      const forward = (x: tf.Tensor | tf.Tensor[], training: boolean): tf.Tensor =>
        head.apply(pool(split.top.apply(x, { training: training && bnTrains }) as tf.Tensor), { training }) as tf.Tensor;
      const shapes = split.top.inputs.map((t) => t.shape.slice(1) as number[]);
      const pick = (s: "train" | "val"): Item[] =>
        manifest.items.filter((it) => it.split === s).map((it) => ({ abs: join(ctx.dataDir, it.rel), label: it.label }));
      const train = pick("train");
      const val = pick("val");
      ctx.progress(`computing frozen activations for ${val.length} validation images`);
      const valActs = await frontierOf(ctx, split.bottom, val);
      const trainActs = augmentEnabled(augment) ? undefined : await frontierOf(ctx, split.bottom, train);
      const bs = phase.batch_size;
      const [h, w] = ctx.config.base.input_size;
      async function* epochBatches(epoch: number): AsyncGenerator<Batch> {
        const order = new Rng(deriveSeed(seed, `fine-tune-epoch-${epoch}`)).shuffle(train.map((_, i) => i));
        if (trainActs) {
          for (let s = 0; s < order.length; s += bs) {
            const idx = order.slice(s, s + bs);
            yield { x: gather(trainActs, shapes, idx), y: targets(idx.map((i) => train[i]!.label), k, sigmoid), n: idx.length };
          }
          return;
        }
        const items = order.map((i) => train[i]!);
        const aug = { cfg: augment, seed: deriveSeed(seed, "fine-tune-augment"), epoch };
        for await (const b of batches(items, { ...imageOptions(ctx, bs), augment: aug })) {
          const x = tf.tidy(() => [split.bottom.predict(tf.tensor4d(b.x, [b.n, h, w, 3]))].flat() as tf.Tensor[]);
          yield { x, y: targets(b.indices.map((i) => items[i]!.label), k, sigmoid), n: b.n };
        }
      }
      const validate = async (): Promise<{ loss: number; accuracy: number }> => {
        const probs = new Float32Array(val.length * k);
        for (let s = 0; s < val.length; s += 64) {
          const idx = Array.from({ length: Math.min(64, val.length - s) }, (_, i) => s + i);
          const p = tf.tidy(() => toClassProbs(forward(gather(valActs, shapes, idx), false)));
          probs.set(p.dataSync(), s * k);
          p.dispose();
        }
        return lossAndAccuracy(probs, val.map((v) => v.label), k);
      };
      const variables = [...split.top.trainableWeights, ...head.trainableWeights].map((v) => v.read() as tf.Variable);
      const result = await fit({
        phaseName: "fine_tune", phase, epochOffset: ctx.epochOffset, variables, forward,
        loss: (y, probs) => headLoss(head, y, probs), batches: epochBatches,
        batchesPerEpoch: Math.ceil(train.length / bs), validate, callbacks: ctx.callbacks, checkAbort: ctx.checkAbort,
      });
      await saveModel(split.top, join(ctx.out, "top"));
      await saveModel(head, join(ctx.out, "head"));
      return { info: { history: result.history, epochs_run: result.history.length, best_epoch: result.bestEpoch, stopped_early: result.stoppedEarly } };
    } finally {
      split.bottom.dispose();
      split.top.dispose();
      head.dispose();
    }
  },
};
