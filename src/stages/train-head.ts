import { join } from "node:path";
import { saveModel } from "../models/io";
import { evaluateClassifier } from "../training/metrics";
import { fit } from "../training/fit";
import { buildAttentionHead } from "../training/attention-head";
import { buildHead, headLoss, setNormStats } from "../training/head";
import { FeatureStore, featureBatches, featureMoments, lossAndAccuracy, predictProbs } from "./features-data";
import { deriveSeed } from "../util/rng";
import { imbalanceWarning } from "../plan/class-counts";
import { classBalance } from "./class-balance";
import { trainingManifest } from "./audit-drop";
import { noiseSources } from "../models/seeded-dropout";
import { checkpointInfo, stageCheckpointing } from "./checkpointing";
import { input, type Stage, type StageContext, type StageResult } from "./types";
import type { Manifest } from "../data/manifest";

/** train-head: train the new head on cached features (plain and augmented views in turn). */
export const trainHead: Stage = {
  name: "train-head",
  needsTf: true,
  async run(ctx) {
    const manifest = trainingManifest(ctx);
    // read a batch at a time from the extract entry (checked when opened), so memory stays flat
    ctx.progress("checking the cached features");
    const store = new FeatureStore(input(ctx, "extract").dir, manifest, ctx.config.head.pooling, true);
    try {
      return await trainOnFeatures(ctx, manifest, store);
    } finally {
      store.close();
    }
  },
};

/** Build the head, fit it on the store's views and score it on the evaluated split. */
async function trainOnFeatures(ctx: StageContext, manifest: Manifest, store: FeatureStore): Promise<StageResult> {
  const { head, train, seed } = ctx.config;
  const k = manifest.classes.length;
  const sigmoid = head.output === "sigmoid";
  const { spatial, dim } = store.index;
  const model = spatial ? buildAttentionHead(head, [spatial[0], spatial[1], dim], k, seed) : buildHead(head, dim, k, seed);
  try {
    if (head.depths) {
      const { mean, variance } = featureMoments(store.split("train"));
      setNormStats(model, mean, variance);
    }
    const val = store.split("val");
    const predict = (x: import("@tensorflow/tfjs").Tensor) => model.apply(x, { training: false }) as import("@tensorflow/tfjs").Tensor;
    const balance = classBalance(ctx.config, manifest.classes, store.split("train").labels);
    // kept in the entry's info, so that a cached train-head still warns (RunState lifts it)
    const imbalanced = imbalanceWarning(manifest, ctx.config);
    const { checkpoint, cost } = stageCheckpointing(ctx, train.head.epochs);
    const result = await fit({
      phaseName: "head",
      phase: train.head,
      epochOffset: ctx.epochOffset,
      variables: model.trainableWeights.map((w) => w.read() as import("@tensorflow/tfjs").Variable),
      forward: (x, training) => model.apply(x, { training }) as import("@tensorflow/tfjs").Tensor,
      loss: (y, probs, w) => headLoss(model, y, probs, w),
      batches: (epoch) => featureBatches(store.trainView(epoch), balance.order(deriveSeed(seed, `head-epoch-${epoch}`)), train.head.batch_size, k, sigmoid, balance.weights),
      batchesPerEpoch: Math.ceil(balance.epochRows / train.head.batch_size),
      validate: async () => lossAndAccuracy(predictProbs(predict, val, k), val.labels, k),
      callbacks: ctx.callbacks,
      checkAbort: ctx.checkAbort,
      state: model.weights.map((w) => w.read() as import("@tensorflow/tfjs").Variable),
      noise: noiseSources(model),
      checkpoint,
    });
    await saveModel(model, join(ctx.out, "head"));
    const test = store.split(ctx.config.evaluate.split);
    const report = evaluateClassifier(test.labels, predictProbs(predict, test, k), manifest.classes);
    return {
      info: {
        history: result.history,
        epochs_run: result.history.length,
        best_epoch: result.bestEpoch,
        stopped_early: result.stoppedEarly,
        training_step: result.steps,
        ...checkpointInfo(cost),
        class_balance: balance.info,
        ...(imbalanced ? { warnings: [imbalanced] } : {}),
        head_test_accuracy: report.accuracy,
        head_test_macro_f1: report.macro_f1,
        head_test_macro_auc: report.macro_auc,
      },
    };
  } finally {
    model.dispose();
  }
}
