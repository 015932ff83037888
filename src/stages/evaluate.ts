import * as tf from "@tensorflow/tfjs";
import { join } from "node:path";
import { batches } from "../data/loader";
import { buildBase } from "../models/build";
import { foldForInference } from "../models/fold";
import { inferenceEngine } from "../models/engine";
import { loadModel, saveModel } from "../models/io";
import { saveGraphModel } from "../models/graph";
import { resolveCut } from "../models/layers";
import { ATTENTION_LAYER, rewire, spatialHead } from "../training/attention-head";
import { ATTENTION_IMAGES, attentionOf, pickImages, writeAttentionPng } from "./attention-maps";
import { evaluateClassifier } from "../training/metrics";
import { writeFileAtomic } from "../util/atomic";
import { imageOptions } from "./extract";
import { FeatureStore, predictProbs, toClassProbs } from "./features-data";
import type { Manifest } from "../data/manifest";
import { readManifest } from "./prepare";
import { input, type Stage, type StageContext } from "./types";

export const REPORT_FILE = "report.json";
export const MODEL_DIR = "model";
/** The attention figure an attention head's evaluate entry holds under plots/. */
export const ATTENTION_PNG = "attention_maps.png";

/** Images to attention maps [n, h*w], and the map's [h, w]. */
interface AttentionModel {
  model: tf.LayersModel;
  size: [number, number];
}

/** Base plus head as one LayersModel (what a user loads with tf.loadLayersModel), and the attention map's output if the head has one. */
async function assemble(ctx: StageContext): Promise<{ model: tf.LayersModel; head: tf.LayersModel; attention?: AttentionModel }> {
  const a = ctx.artifacts();
  const base = await buildBase(a, resolveCut(a, ctx.config.base.cut), ctx.config.base.input_size);
  const tuned = ctx.inputs.get("fine-tune");
  const head = await loadModel(join(tuned?.dir ?? input(ctx, "train-head").dir, "head"));
  if (tuned) {
    const top = await loadModel(join(tuned.dir, "top"));
    for (const l of top.layers) if (l.weights.length) base.getLayer(l.name).setWeights(l.getWeights());
    top.dispose();
  }
  let features = base.outputs[0]!;
  if (!spatialHead(ctx.config)) {
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
async function graphClassifier(ctx: StageContext): Promise<{ head: tf.LayersModel; save(dir: string): Promise<void>; dispose(): void }> {
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

/** The attention figure of a few held-out images, into `plots/attention_maps.png` of the entry. */
async function attentionFigure(ctx: StageContext, manifest: Manifest, items: Manifest["items"], probs: Float32Array, attention: AttentionModel): Promise<string> {
  const [h, w] = ctx.config.base.input_size;
  const picked = pickImages({ ...manifest, items }, ctx.config.evaluate.split, ATTENTION_IMAGES);
  const k = manifest.classes.length;
  const spatial = attention.size;
  const size = spatial[0] * spatial[1];
  const rows: Array<{ abs: string; truth: string; predicted: string; map: Float32Array }> = [];
  const abs = picked.map((i) => ({ abs: join(ctx.dataDir, items[i]!.rel) }));
  for await (const b of batches(abs, imageOptions(ctx, ATTENTION_IMAGES))) {
    const maps = attentionOf(attention.model, b.x, [b.n, h, w, 3]);
    b.indices.forEach((j, r) => {
      const i = picked[j]!;
      let best = 0;
      for (let c = 1; c < k; c++) if (probs[i * k + c]! > probs[i * k + best]!) best = c;
      rows.push({ abs: abs[j]!.abs, truth: manifest.classes[items[i]!.label]!, predicted: manifest.classes[best]!, map: maps.slice(r * size, (r + 1) * size) });
    });
  }
  const path = join(ctx.out, "plots", ATTENTION_PNG);
  await writeAttentionPng(path, rows, spatial, ctx.config.data.interpolation);
  return path;
}

/** Class probabilities of `items` through `model`, and how its forward pass ran (the engine's runner). */
async function predictImages(ctx: StageContext, model: tf.LayersModel, items: Manifest["items"], k: number, split: string): Promise<{ probs: Float32Array; forward: string }> {
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
      ctx.progress(`${done}/${items.length} ${split} images`);
    }
  } finally {
    folded.dispose();
  }
  return { probs, forward: folded.runner };
}

function predictFromFeatures(ctx: StageContext, manifest: Manifest, head: tf.LayersModel, split: "test" | "val", k: number): Float32Array {
  const set = new FeatureStore(input(ctx, "extract").dir, manifest, ctx.config.head.pooling).split(split);
  return predictProbs((x) => head.predict(x) as tf.Tensor, set, k);
}

/** evaluate: run the assembled model over the held-out images, report metrics, save the model. */
export const evaluate: Stage = {
  name: "evaluate",
  needsTf: true,
  async run(ctx) {
    const manifest = readManifest(input(ctx, "prepare").dir);
    const split = ctx.config.evaluate.split;
    const items = manifest.items.filter((it) => it.split === split);
    const graph = ctx.artifacts().graph ? await graphClassifier(ctx) : undefined;
    const joined = graph ? undefined : await assemble(ctx);
    try {
      const k = manifest.classes.length;
      // Without fine-tuning the base is the one extract ran, so its cached un-augmented features
      // of this split give the same predictions as running the images through the whole model.
      // A graph-model base is never fine-tuned, so it always takes this route.
      const source = ctx.inputs.has("fine-tune") ? "images" : "cached features";
      const head = graph?.head ?? joined!.head;
      const { probs, forward } = source === "images" ? await predictImages(ctx, joined!.model, items, k, split) : { probs: predictFromFeatures(ctx, manifest, head, split, k), forward: undefined };
      const report = evaluateClassifier(items.map((it) => it.label), probs, manifest.classes);
      writeFileAtomic(join(ctx.out, REPORT_FILE), JSON.stringify({ split, source, ...report }, null, 2));
      if (graph) await graph.save(join(ctx.out, MODEL_DIR));
      else await saveModel(joined!.model, join(ctx.out, MODEL_DIR));
      const figure = joined?.attention ? await attentionFigure(ctx, manifest, items, probs, joined.attention) : undefined;
      return {
        info: {
          split,
          test_accuracy: report.accuracy,
          test_macro_f1: report.macro_f1,
          test_macro_auc: report.macro_auc,
          test_log_loss: report.log_loss,
          test_images: report.n,
          ...(figure ? { attention_maps: `plots/${ATTENTION_PNG}` } : {}),
          ...(forward ? { forward } : {}),
        },
      };
    } finally {
      graph?.dispose();
      // joined.attention shares every layer with joined.model, which disposes them
      joined?.model.dispose();
      joined?.head.dispose();
    }
  },
};
