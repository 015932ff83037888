import * as tf from "@tensorflow/tfjs";
import { join } from "node:path";
import { batches } from "../data/loader";
import type { Manifest } from "../data/manifest";
import { buildSplitBase } from "../models/build";
import { foldForInference, foldForTraining, type InferenceModel } from "../models/fold";
import type { FastInference } from "../models/inference-types";
import { poolSettings } from "../models/onnx/workers";
import { inferenceEngine } from "../models/engine";
import { loadModel, saveModel } from "../models/io";
import { resolveCut } from "../models/layers";
import type { FineTunePhaseConfig } from "../config/types";
import { TlrunError } from "../errors";
import { fit, type Batch } from "../training/fit";
import { headLoss, targets } from "../training/head";
import { hashRecord } from "../util/hash";
import { deriveSeed } from "../util/rng";
import { exampleWeights } from "../training/class-weight";
import { classBalance } from "./class-balance";
import { ActivationViews } from "./activation-views";
import { scratchDirOf } from "../plan/paths";
import { spatialHead } from "../training/attention-head";
import { fineTuneGroups } from "./fine-tune-groups";
import { augmentEnabled, imageOptions } from "./extract";
import { storedTrainViews } from "../config/augment";
import { lossAndAccuracy, toClassProbs } from "./features-data";
import { trainingManifest } from "./audit-drop";
import { readUnfreeze } from "./unfreeze";
import { noiseSources } from "../models/seeded-dropout";
import { checkpointInfo, stageCheckpointing } from "./checkpointing";
import { Eta, formatSeconds } from "../util/progress";
import { input, type Stage, type StageContext } from "./types";
import { chunkImages, imageBytes, viewAugment, viewOrder, viewRuns, type ViewDraws } from "./view-order";
import { inOrder } from "../util/in-order";

type Item = { abs: string; label: number };

/** One count over every activation fine-tune computes (validation, then the training views), with its rate and ETA. */
interface ActivationCounter {
  done: number;
  total: number;
  /** What the total is made of, for the line. */
  what: string;
  eta: Eta;
}

/**
 * The training views come first in the count, as they are computed: they are most of the work,
 * so the ETA measured on them at the start holds. A validation image is decoded for itself
 * alone, where a training image is decoded once for all its views (view-order.ts), so they ran at
 * two thirds of the views' pace; counted first, they made the ETA half again too long for the
 * first tenth of the phase (30k images).
 */
function activationCounter(val: number, train: number, trainViews: number): ActivationCounter {
  const total = val + train * trainViews;
  const training = trainViews === 0 ? "" : trainViews === 1 ? `${train} training images + ` : `${trainViews} views of ${train} training images + `;
  return { done: 0, total, what: `${training}${val} validation images`, eta: new Eta(total) };
}

/**
 * Run the frozen part over `items` and store their activations: view 0 plain, views 1..`copies`
 * augmented (`augment`'s stream, epoch v for view v). Chunked (view-order.ts), so the augmented
 * views decode from the pixel cache however many images there are. Up to `inFlight` batches are
 * with the inference workers at once while the loader decodes and augments the next, as in the
 * extract stage: run here one at a time, the quickstart's views came at half extract's pace.
 */
async function storeViews(
  ctx: StageContext, bottom: FastInference, inFlight: number, items: Item[], views: ActivationViews, copies: number, counter: ActivationCounter, augment?: ViewDraws,
): Promise<void> {
  const [h, w] = ctx.config.base.input_size;
  const rows = viewOrder(items.map((it) => ({ abs: it.abs, train: true })), copies, chunkImages(items.length, copies, imageBytes(ctx.config)));
  await inOrder(
    batches(rows, { ...imageOptions(ctx, 32), augmentFor: augment && viewAugment(rows, augment) }), inFlight,
    (b) => bottom.predictHostAsync(b.x, b.n, [h, w, 3]), // copies b.x, which the loader refills next
    (parts, { indices }) => {
      for (const [from, to, view] of viewRuns(rows, indices))
        views.append(view, parts.map((p) => p.subarray((from * p.length) / indices.length, (to * p.length) / indices.length)));
      counter.done += indices.length;
      counter.eta.update(counter.done);
      ctx.progress([`frozen activations ${counter.done}/${counter.total} (${counter.what})`, ...counter.eta.parts("img/s")].join(", "));
    },
    () => ctx.checkAbort(),
  );
  for (let v = 0; v <= copies; v++) views.seal(v);
}

/**
 * fine-tune: train the unfrozen top of the base together with the head. The frozen part runs
 * in inference mode outside the gradient tape. Its activations are computed once and reused
 * when they do not change between epochs: always for validation; for training when
 * augmentation is off, or when `augment.fine_tune_views` fixes the augmented views.
 */
export const fineTune: Stage = {
  name: "fine-tune",
  needsTf: true,
  needsConvGrad: true,
  async run(ctx) {
    if (!ctx.backend.canTrainConv)
      throw new TlrunError(`fine-tuning needs convolution gradients, which the ${ctx.backend.name} backend lacks; use --backend native or cpu`, 1);
    const phase = ctx.config.train.fine_tune!;
    const { seed, augment, head: headCfg } = ctx.config;
    const manifest: Manifest = trainingManifest(ctx);
    const spec = readUnfreeze(input(ctx, "unfreeze").dir);
    const a = ctx.artifacts();
    const cut = resolveCut(a, ctx.config.base.cut);
    const split = await buildSplitBase(a, cut, ctx.config.base.input_size, spec.index);
    const head = await loadModel(join(input(ctx, "train-head").dir, "head"));
    const shapes = split.top.inputs.map((t) => t.shape.slice(1) as number[]);
    const trainViews = new ActivationViews(shapes, scratchDirOf(ctx.loaded));
    const valViews = new ActivationViews(shapes, scratchDirOf(ctx.loaded));
    // BatchNorm folded into a copy of the bottom's convs; on native it runs as one compiled graph.
    // The bottom is the pretrained base's up to the split, so its exported graph is kept between
    // runs (trials of a sweep, reruns with another head) under what it is a function of.
    const cacheKey = hashRecord({ part: "fine-tune bottom", weights: a.weightsSha256, cut, size: ctx.config.base.input_size, split: spec.index, model: a.topology });
    const fixedViews = augmentEnabled(augment) ? augment.fine_tune_views : 0;
    // The training set's activations are stored once when they do not change between epochs; views
    // no epoch of this phase reads are not computed (each view has its own draws, so the others
    // are unchanged). storedTrainViews counts the plain view too.
    const stored = storedTrainViews(augment, phase.epochs);
    const cached = stored > 0;
    const storedViews = stored - 1;
    // Stored views go through the inference workers, as extract's batches do; the per-epoch
    // augmented pass (nothing stored) runs on this thread, between training steps.
    const workers = cached ? poolSettings() : undefined;
    const frozen = await inferenceEngine().forward(foldForInference(split.bottom), [workers?.batch ?? 32, ...ctx.config.base.input_size, 3], { cacheKey, ...(workers ? { workers } : {}) });
    const frozenRunner = frozen.runner;
    let frozenDisposed = false;
    let topRun: InferenceModel | undefined;
    try {
      const bnTrains = spec.batchnorm === "train";
      for (const l of split.top.layers) l.trainable = l.getClassName() !== "BatchNormalization" || bnTrains;
      if (!bnTrains) topRun = foldForTraining(split.top); // frozen BatchNorm folded into the trained convs, per step
      const k = manifest.classes.length;
      const sigmoid = headCfg.output === "sigmoid";
      // an attention head pools the feature map itself
      const pool = (fm: tf.Tensor): tf.Tensor => (spatialHead(ctx.config) ? fm : headCfg.pooling === "avg" ? tf.mean(fm, [1, 2]) : tf.max(fm, [1, 2]));
      const forward = (x: tf.Tensor | tf.Tensor[], training: boolean): tf.Tensor =>
        head.apply(pool(topRun ? topRun.predict(x)[0]! : (split.top.apply(x, { training: training && bnTrains }) as tf.Tensor)), { training }) as tf.Tensor;
      const pick = (s: "train" | "val"): Item[] =>
        manifest.items.filter((it) => it.split === s).map((it) => ({ abs: join(ctx.dataDir, it.rel), label: it.label }));
      const train = pick("train");
      const val = pick("val");
      const viewSeed = deriveSeed(seed, "fine-tune-view");
      const counter = activationCounter(val.length, train.length, cached ? storedViews + 1 : 0);
      const storing = performance.now();
      const inFlight = Math.max(1, workers?.workers ?? 1);
      if (cached) await storeViews(ctx, frozen, inFlight, train, trainViews, storedViews, counter, { cfg: augment, seed: viewSeed });
      await storeViews(ctx, frozen, inFlight, val, valViews, 0, counter);
      if (cached) {
        frozen.dispose(); // every epoch reads stored views: the workers and their sessions can go
        frozenDisposed = true;
      }
      // The live line's ETA covered this phase only; say it is over before the epochs' ETA takes over.
      const took = (performance.now() - storing) / 1000;
      ctx.note(`frozen activations: ${counter.done} in ${formatSeconds(took)}, ${(counter.done / Math.max(took, 1e-3)).toFixed(1)} img/s`);
      const bs = phase.batch_size;
      const [h, w] = ctx.config.base.input_size;
      const balance = classBalance(ctx.config, manifest.classes, train.map((it) => it.label));
      // Targets and, with class weights, per-example loss weights of train rows `idx`.
      const labelsOf = (idx: number[]): Pick<Batch, "y" | "w"> => {
        const labels = idx.map((i) => train[i]!.label);
        return { y: targets(labels, k, sigmoid), ...(balance.weights ? { w: exampleWeights(labels, balance.weights) } : {}) };
      };
      async function* epochBatches(epoch: number): AsyncGenerator<Batch> {
        const order = balance.order(deriveSeed(seed, `fine-tune-epoch-${epoch}`));
        if (cached) {
          const view = epoch % (fixedViews + 1);
          for (let s = 0; s < order.length; s += bs) {
            const idx = order.slice(s, s + bs);
            yield { x: trainViews.batch(view, idx), ...labelsOf(idx), n: idx.length };
          }
          return;
        }
        const items = order.map((i) => train[i]!);
        const aug = { cfg: augment, seed: deriveSeed(seed, "fine-tune-augment"), epoch };
        for await (const b of batches(items, { ...imageOptions(ctx, bs), augment: aug })) {
          const x = tf.tidy(() => frozen.predict(tf.tensor4d(b.x, [b.n, h, w, 3])));
          yield { x, ...labelsOf(b.indices.map((i) => order[i]!)), n: b.n };
        }
      }
      const validate = async (): Promise<{ loss: number; accuracy: number }> => {
        const probs = new Float32Array(val.length * k);
        for (let s = 0; s < val.length; s += 64) {
          const idx = Array.from({ length: Math.min(64, val.length - s) }, (_, i) => s + i);
          const p = tf.tidy(() => toClassProbs(forward(valViews.batch(0, idx), false)));
          probs.set(p.dataSync(), s * k);
          p.dispose();
        }
        return lossAndAccuracy(probs, val.map((v) => v.label), k);
      };
      const groups = fineTuneGroups(spec, split.top, head);
      // the head's own validation scores: fine-tuning has to beat them to be kept
      const before = await validate();
      const { checkpoint, cost } = stageCheckpointing(ctx, phase.epochs);
      const result = await fit({
        phaseName: "fine_tune", phase, epochOffset: ctx.epochOffset, variables: groups.flatMap((g) => g.variables), groups, forward,
        loss: (y, probs, w) => headLoss(head, y, probs, w), batches: epochBatches,
        batchesPerEpoch: Math.ceil(balance.epochRows / bs), validate, callbacks: ctx.callbacks, checkAbort: ctx.checkAbort, baseline: before,
        // BatchNorm's moving statistics change too when it trains
        state: [...split.top.weights, ...head.weights].map((w) => w.read() as tf.Variable),
        noise: [...noiseSources(split.top), ...noiseSources(head)],
        checkpoint,
      });
      const outcome = fineTuneOutcome(phase, before, result);
      await saveModel(split.top, join(ctx.out, "top"));
      await saveModel(head, join(ctx.out, "head"));
      return {
        info: {
          history: result.history, epochs_run: result.history.length, best_epoch: result.bestEpoch, ...outcome,
          stopped_early: result.stoppedEarly, frozen_forward: frozenRunner, training_step: result.steps, ...checkpointInfo(cost), activation_views: cached ? storedViews + 1 : 0, unfreeze_schedule: spec.blocks,
          class_balance: balance.info,
        },
      };
    } finally {
      trainViews.dispose();
      valViews.dispose();
      if (!frozenDisposed) frozen.dispose();
      topRun?.dispose();
      split.bottom.dispose();
      split.top.dispose();
      head.dispose();
    }
  },
};

/**
 * Whether fine-tuning beat the head on the monitored validation score. With restore_best and no
 * epoch better than the head, fit() kept the head's weights (`kept_head`); without it the
 * fine-tuned weights are kept even when worse, and `worse_than_head` says so.
 */
export function fineTuneOutcome(
  phase: FineTunePhaseConfig, head: { loss: number; accuracy: number }, result: { history: Array<{ val_loss: number; val_accuracy: number }>; bestEpoch: number },
): { head_val_loss: number; head_val_accuracy: number; kept_head: boolean; worse_than_head: boolean } {
  const es = phase.early_stopping;
  const kept = es.enabled && es.restore_best && result.bestEpoch === 0;
  const last = result.history[result.history.length - 1];
  const final = kept || !last ? undefined : es.enabled && es.restore_best ? result.history[result.bestEpoch - 1]! : last;
  const worse = final !== undefined && (es.monitor === "val_accuracy" ? final.val_accuracy < head.accuracy : final.val_loss > head.loss);
  return { head_val_loss: head.loss, head_val_accuracy: head.accuracy, kept_head: kept, worse_than_head: worse };
}
