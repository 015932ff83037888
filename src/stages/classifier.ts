import * as tf from "@tensorflow/tfjs";
import { join } from "node:path";
import { batches } from "../data/loader";
import type { Manifest } from "../data/manifest";
import { buildBase } from "../models/build";
import { foldForInference } from "../models/fold";
import { inferenceEngine } from "../models/engine";
import { loadModel, saveModel } from "../models/io";
import { saveGraphModel } from "../models/graph";
import { resolveCut } from "../models/layers";
import { headDepthsOf, pooledDepthsOutput } from "../models/head-depths";
import { Eta } from "../util/progress";
import { ATTENTION_LAYER, rewire, spatialHead } from "../training/attention-head";
import { imageOptions } from "./extract";
import { FeatureStore, predictProbs, toClassProbs } from "./features-data";
import { input, type StageContext } from "./types";

/**
 * The trained classifier as evaluate (and what it saves) sees it: base plus head joined into one
 * model, or for a graph-model base the head beside the graph; and its class probabilities over
 * images or over the cached features of a split.
 */

/** Images to attention maps [n, h*w], and the map's [h, w]. */
export interface AttentionModel {
  model: tf.LayersModel;
  size: [number, number];
}

/** Base plus head as one LayersModel (the fine-tuned top's weights unless fine-tuning kept the head's) (what a user loads with tf.loadLayersModel), and the attention map's output if the head has one. */
export async function assemble(ctx: StageContext, opts: { fineTuned: boolean }): Promise<{ model: tf.LayersModel; head: tf.LayersModel; attention?: AttentionModel }> {
  const a = ctx.artifacts();
  const base = await buildBase(a, resolveCut(a, ctx.config.base.cut), ctx.config.base.input_size);
  const tuned = opts.fineTuned ? ctx.inputs.get("fine-tune") : undefined;
  const head = await loadModel(join(tuned?.dir ?? input(ctx, "train-head").dir, "head"));
  if (tuned) {
    const top = await loadModel(join(tuned.dir, "top"));
    for (const l of top.layers) if (l.weights.length) base.getLayer(l.name).setWeights(l.getWeights());
    top.dispose();
  }
  const depths = headDepthsOf(a, ctx.config.base.cut, ctx.config.head.depths);
  let features = base.outputs[0]!;
  if (depths.length) features = pooledDepthsOutput(base, depths, ctx.config.head.pooling);
  else if (!spatialHead(ctx.config)) {
    const pooling = ctx.config.head.pooling === "avg" ? tf.layers.globalAveragePooling2d({ name: "head_pool" }) : tf.layers.globalMaxPooling2d({ name: "head_pool" });
    features = pooling.apply(features) as tf.SymbolicTensor;
  }
  const outs = rewire(head, features);
  const model = tf.model({ inputs: base.inputs, outputs: outs.get(head.layers[head.layers.length - 1]!.name)!, name: ctx.config.name.replace(/[^A-Za-z0-9_]/g, "_") });
  const map = outs.get(ATTENTION_LAYER);
  const [, h, w] = base.outputs[0]!.shape as number[];
  return { model, head, attention: map && { model: tf.model({ inputs: base.inputs, outputs: map, name: "attention" }), size: [h!, w!] } };
}

/** A graph-model base (extraction only): the trained head, and how to save it with the graph beside it. */
export async function graphClassifier(ctx: StageContext): Promise<{ head: tf.LayersModel; save(dir: string): Promise<void>; dispose(): void }> {
  const a = ctx.artifacts();
  const head = await loadModel(join(input(ctx, "train-head").dir, "head"));
  return {
    head,
    save: async (dir) => {
      await saveModel(head, dir); // the head, on the pooled features
      saveGraphModel(a, join(dir, "base")); // the graph model that computes them
    },
    dispose: () => head.dispose(),
  };
}

/**
 * A count of images over several `predictImages` calls (evaluate's test and validation splits),
 * so the line's ETA is that of all of them, not of the split under way.
 */
export interface ImageCount {
  done: number;
  total: number;
  eta: Eta;
}

export function imageCount(total: number): ImageCount {
  return { done: 0, total, eta: new Eta(total) };
}

/** Class probabilities of `items` through `model`, and how its forward pass ran (the engine's runner). */
export async function predictImages(
  ctx: StageContext, model: tf.LayersModel, items: Manifest["items"], k: number, split: string, count: ImageCount = imageCount(items.length),
): Promise<{ probs: Float32Array; forward: string }> {
  const probs = new Float32Array(items.length * k);
  const [h, w] = ctx.config.base.input_size;
  // the saved model keeps its BatchNorm layers; on native the folded copy runs compiled
  const folded = await inferenceEngine().forward(foldForInference(model), [32, h, w, 3]);
  try {
    let done = 0;
    for await (const b of batches(items.map((it) => ({ abs: join(ctx.dataDir, it.rel) })), imageOptions(ctx, 32))) {
      ctx.checkAbort();
      const p = tf.tidy(() => toClassProbs(folded.predict(tf.tensor4d(b.x, [b.n, h, w, 3]))[0]!));
      probs.set(p.dataSync(), done * k);
      p.dispose();
      done += b.n;
      count.done += b.n;
      count.eta.update(count.done);
      const overall = count.total === items.length ? "" : ` (${count.done}/${count.total} in all)`;
      ctx.progress([`${done}/${items.length} ${split} images${overall}`, ...count.eta.parts("img/s")].join(", "));
    }
  } finally {
    folded.dispose();
  }
  return { probs, forward: folded.runner };
}

/** Class probabilities of a split from extract's cached un-augmented features through the head. */
export function predictFromFeatures(store: FeatureStore, head: tf.LayersModel, split: "test" | "val", k: number): Float32Array {
  const set = store.split(split);
  return predictProbs((x) => head.predict(x) as tf.Tensor, set, k);
}

