import * as tf from "@tensorflow/tfjs";
import { join } from "node:path";
import { batches } from "../data/loader";
import { buildBase } from "../models/build";
import { foldForInference } from "../models/fold";
import { loadModel, saveModel } from "../models/io";
import { resolveCut } from "../models/layers";
import { evaluateClassifier } from "../training/metrics";
import { writeFileAtomic } from "../util/atomic";
import { imageOptions } from "./extract";
import { toClassProbs } from "./features-data";
import { readManifest } from "./prepare";
import { input, type Stage, type StageContext } from "./types";

export const REPORT_FILE = "report.json";
export const MODEL_DIR = "model";

/** Base plus head as one LayersModel: what a user loads with tf.loadLayersModel. */
async function assemble(ctx: StageContext): Promise<{ model: tf.LayersModel; head: tf.LayersModel }> {
  const a = ctx.artifacts();
  const base = await buildBase(a, resolveCut(a, ctx.config.base.cut), ctx.config.base.input_size);
  const tuned = ctx.inputs.get("fine-tune");
  const head = await loadModel(join(tuned?.dir ?? input(ctx, "train-head").dir, "head"));
  if (tuned) {
    const top = await loadModel(join(tuned.dir, "top"));
    for (const l of top.layers) if (l.weights.length) base.getLayer(l.name).setWeights(l.getWeights());
    top.dispose();
  }
  const pooling = ctx.config.head.pooling === "avg" ? tf.layers.globalAveragePooling2d({ name: "head_pool" }) : tf.layers.globalMaxPooling2d({ name: "head_pool" });
  let t = pooling.apply(base.outputs[0]!) as tf.SymbolicTensor;
  for (const l of head.layers) if (l.getClassName() !== "InputLayer") t = l.apply(t) as tf.SymbolicTensor;
  const model = tf.model({ inputs: base.inputs, outputs: t, name: ctx.config.name.replace(/[^A-Za-z0-9_]/g, "_") });
  return { model, head };
}

/** evaluate: run the assembled model over the held-out images, report metrics, save the model. */
export const evaluate: Stage = {
  name: "evaluate",
  needsTf: true,
  async run(ctx) {
    const manifest = readManifest(input(ctx, "prepare").dir);
    const split = ctx.config.evaluate.split;
    const items = manifest.items.filter((it) => it.split === split);
    const { model, head } = await assemble(ctx);
    const folded = foldForInference(model); // the saved model keeps its BatchNorm layers
    try {
      const k = manifest.classes.length;
      const probs = new Float32Array(items.length * k);
      const [h, w] = ctx.config.base.input_size;
      let done = 0;
      for await (const b of batches(items.map((it) => ({ abs: join(ctx.dataDir, it.rel) })), imageOptions(ctx, 32))) {
        ctx.checkAbort();
        const p = tf.tidy(() => toClassProbs(folded.predict(tf.tensor4d(b.x, [b.n, h, w, 3]))[0]!));
        probs.set(p.dataSync(), done * k);
        p.dispose();
        done += b.n;
        ctx.progress(`${done}/${items.length} ${split} images`);
      }
      const report = evaluateClassifier(items.map((it) => it.label), probs, manifest.classes);
      writeFileAtomic(join(ctx.out, REPORT_FILE), JSON.stringify({ split, ...report }, null, 2));
      await saveModel(model, join(ctx.out, MODEL_DIR));
      return {
        info: {
          split,
          test_accuracy: report.accuracy,
          test_macro_f1: report.macro_f1,
          test_macro_auc: report.macro_auc,
          test_log_loss: report.log_loss,
          test_images: report.n,
        },
      };
    } finally {
      folded.dispose();
      model.dispose();
      head.dispose();
    }
  },
};
