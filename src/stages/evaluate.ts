import type * as tf from "@tensorflow/tfjs";
import { join } from "node:path";
import { spatialHead } from "../training/attention-head";
import { batches } from "../data/loader";
import type { Manifest } from "../data/manifest";
import { evaluationReport } from "../evaluation/report";
import { flatMetrics } from "../evaluation/metrics-flat";
import type { EvaluationReport, EvaluationWarning } from "../evaluation/types";
import { saveModel } from "../models/io";
import { headDepthsOf } from "../models/head-depths";
import { writeFileAtomic } from "../util/atomic";
import { ATTENTION_IMAGES, attentionOf, pickImages, writeAttentionPng } from "./attention-maps";
import { assemble, graphClassifier, imageCount, predictFromFeatures, predictImages, type AttentionModel } from "./classifier";
import { imageOptions } from "./extract";
import { FeatureStore } from "./features-data";
import { trainingManifest } from "./audit-drop";
import { input, type Stage, type StageContext } from "./types";
import { explainImages, type ExplainResult } from "./explain";

export const REPORT_FILE = "report.json";
export const MODEL_DIR = "model";
/** The attention figure an attention head's evaluate entry holds under plots/. */
export const ATTENTION_PNG = "attention_maps.png";

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


/** Grad-CAM panels of the images a reviewer should see first (`evaluate.explain`), into plots/ of the entry. */
async function heatMaps(
  ctx: StageContext,
  o: { items: Manifest["items"]; probs: Float32Array; classes: string[]; report: EvaluationReport; head: tf.LayersModel; fineTunedModel?: tf.LayersModel },
): Promise<ExplainResult> {
  const { n, layer } = ctx.config.evaluate.explain;
  const b = o.report.binary;
  const { batchSize: _own, ...decode } = imageOptions(ctx, 8);
  return explainImages({
    artifacts: ctx.artifacts(), cut: ctx.config.base.cut, layer, inputSize: ctx.config.base.input_size,
    head: o.head, pooling: spatialHead(ctx.config) ? "none" : ctx.config.head.pooling, ...(o.fineTunedModel ? { weightsFrom: o.fineTunedModel } : {}),
    depths: ctx.artifacts().graph ? [] : headDepthsOf(ctx.artifacts(), ctx.config.base.cut, ctx.config.head.depths),
    items: o.items.map((it) => ({ abs: join(ctx.dataDir, it.rel), label: it.label })), probs: o.probs, classes: o.classes,
    ...(b ? { binary: { positive: o.classes.indexOf(b.positive_class), threshold: b.threshold } } : {}),
    decode, out: ctx.out, n,
  });
}

/** What fine-tune recorded about beating the head, when the pipeline fine-tunes. */
function fineTuneOutcome(ctx: StageContext): { ran: boolean; keptHead: boolean; worse: boolean; head?: { loss: number; accuracy: number } } {
  const info = ctx.inputs.get("fine-tune")?.meta.info;
  if (!info) return { ran: false, keptHead: false, worse: false };
  const head = typeof info.head_val_loss === "number" ? { loss: info.head_val_loss, accuracy: info.head_val_accuracy as number } : undefined;
  return { ran: true, keptHead: info.kept_head === true, worse: info.worse_than_head === true, ...(head ? { head } : {}) };
}

/** The plain sentence for a fine-tune that did not beat the head. */
function fineTuneWarning(ctx: StageContext, o: ReturnType<typeof fineTuneOutcome>): EvaluationWarning | undefined {
  const es = ctx.config.train.fine_tune?.early_stopping;
  const monitor = es?.monitor ?? "val_loss";
  const headScore = o.head ? (monitor === "val_loss" ? `${o.head.loss.toFixed(4)}` : `${o.head.accuracy.toFixed(4)}`) : "";
  if (o.keptHead)
    return { kind: "fine_tune_kept_head", message: `Fine-tuning did not beat the head on ${monitor} (head: ${headScore}) in any epoch, so tlrun kept the head's weights: these metrics are the head's, not a fine-tuned model's. Try a lower train.fine_tune.learning_rate, a later freeze.at, or drop fine-tuning.` };
  if (o.worse)
    return { kind: "fine_tune_kept_head", message: `Fine-tuning ended worse than the head on ${monitor} (head: ${headScore}) and these metrics are the fine-tuned model's. Turn on train.fine_tune.early_stopping (restore_best keeps the head's weights when no epoch beats it), or lower train.fine_tune.learning_rate.` };
  return undefined;
}

/** evaluate: run the final model over the held-out images, report metrics a decision can rest on, save the model. */
export const evaluate: Stage = {
  name: "evaluate",
  needsTf: true,
  async run(ctx) {
    const manifest = trainingManifest(ctx);
    const split = ctx.config.evaluate.split;
    const items = manifest.items.filter((it) => it.split === split);
    const valItems = manifest.items.filter((it) => it.split === "val");
    const outcome = fineTuneOutcome(ctx);
    // A fine-tune that kept the head's weights left the base as extract ran it.
    const fineTuned = outcome.ran && !outcome.keptHead;
    const graph = ctx.artifacts().graph ? await graphClassifier(ctx) : undefined;
    const joined = graph ? undefined : await assemble(ctx, { fineTuned });
    let store: FeatureStore | undefined;
    try {
      const k = manifest.classes.length;
      // Without fine-tuned weights the base is the one extract ran, so its cached un-augmented
      // features of a split give the same predictions as running the images through the whole
      // model. A graph-model base is never fine-tuned, so it always takes this route.
      const source = fineTuned ? "images" : "cached features";
      const head = graph?.head ?? joined!.head;
      let forward: string | undefined;
      const count = imageCount(items.length + (split === "val" ? 0 : valItems.length));
      const probsOf = async (part: Manifest["items"], name: "test" | "val"): Promise<Float32Array> => {
        if (!part.length) return new Float32Array(0);
        if (source === "cached features") return predictFromFeatures(store!, head, name, k);
        const r = await predictImages(ctx, joined!.model, part, k, name, count);
        forward = r.forward;
        return r.probs;
      };
      store = source === "cached features" ? new FeatureStore(input(ctx, "extract").dir, manifest, ctx.config.head.pooling) : undefined;
      const probs = await probsOf(items, split);
      const valProbs = split === "val" ? probs : await probsOf(valItems, "val");
      const report: EvaluationReport = evaluationReport({
        split, source, classes: manifest.classes,
        labels: items.map((it) => it.label), probs,
        val: { labels: valItems.map((it) => it.label), probs: valProbs },
        config: ctx.config.evaluate, seed: ctx.config.seed, balanced: ctx.config.train.class_weight !== null || ctx.config.data.sampling !== "none", weights: outcome.keptHead ? "head-kept" : outcome.ran ? "fine-tune" : "head",
      });
      const ftWarning = fineTuneWarning(ctx, outcome);
      if (ftWarning) report.warnings.unshift(ftWarning);
      if (graph) await graph.save(join(ctx.out, MODEL_DIR));
      else await saveModel(joined!.model, join(ctx.out, MODEL_DIR));
      const figure = joined?.attention ? await attentionFigure(ctx, manifest, items, probs, joined.attention) : undefined;
      const shown = await heatMaps(ctx, { items, probs, classes: manifest.classes, report, head, fineTunedModel: fineTuned ? joined?.model : undefined });
      report.explain = shown.explain;
      writeFileAtomic(join(ctx.out, REPORT_FILE), JSON.stringify(report, null, 2));
      return {
        info: {
          split,
          // every scalar of the report, named for the split (test_accuracy, test_sensitivity_low, ...)
          metrics: flatMetrics(report),
          images: report.n,
          warnings: report.warnings.map((w) => w.message),
          ...(figure ? { attention_maps: `plots/${ATTENTION_PNG}` } : {}),
          ...(shown.skipped ? { explain_skipped: shown.skipped } : {}),
          ...(forward ? { forward } : {}),
        },
      };
    } finally {
      store?.close();
      graph?.dispose();
      // joined.attention shares every layer with joined.model, which disposes them
      joined?.model.dispose();
      joined?.head.dispose();
    }
  },
};
