/**
 * Fine-tune step rate with tlrun's own classes: buildSplitBase at block_13_expand, BatchNorm
 * frozen, an avg-pool + dense softmax head, Adam, and the product's fit() loop.
 */
import * as tf from "@tensorflow/tfjs";
import type { PhaseConfig } from "../src/config/types";
import { buildSplitBase, type SplitBase } from "../src/models/build";
import { foldForInference, foldForTraining, type InferenceModel } from "../src/models/fold";
import { inferenceEngine } from "../src/models/engine";
import { baseLayers, freezeIndex } from "../src/models/layers";
import { loadArtifacts } from "../src/models/source";
import { fit, type Batch } from "../src/training/fit";
import { buildHead, headLoss, targets } from "../src/training/head";
import { EMOJI_DIR, ROOT, assertFlat, decodeInputs, listImages, numTensors } from "./common";

export const FT = { size: 128, batch: 32, freezeAt: "block_13_expand", images: 256, classes: 9 };

interface Setup {
  split: SplitBase;
  /** The stage's runners: BatchNorm folded into a copy of the bottom (compiled on native), and into the top's convs per step. */
  bottom: InferenceModel;
  top: InferenceModel;
  head: tf.Sequential;
  x: Float32Array;
  labels: number[];
  /** Frontier activations of `x`, computed once, for the cached variant. */
  acts?: Float32Array;
  actShape: number[];
}
let setup: Setup | undefined;

async function prepare(): Promise<Setup> {
  if (setup) return setup;
  const a = loadArtifacts("mobilenet_v2", ROOT);
  const at = freezeIndex(baseLayers(a, "out_relu"), FT.freezeAt)!;
  const split = await buildSplitBase(a, "out_relu", [FT.size, FT.size], at);
  if (split.top.inputs.length !== 1) throw new Error(`expected one frontier tensor at ${FT.freezeAt}, got ${split.frontier.join(", ")}`);
  for (const l of split.top.layers) l.trainable = l.getClassName() !== "BatchNormalization";
  const head = buildHead({ pooling: "avg", layers: [], dropout: 0, output: "softmax", l2: 0, depths: null }, 1280, FT.classes, 1);
  const items = listImages(EMOJI_DIR);
  const x = await decodeInputs(items, FT.images, FT.size);
  const labels = Array.from({ length: FT.images }, (_, i) => items[(i * 7) % items.length]!.label);
  const bottom = await inferenceEngine().forward(foldForInference(split.bottom), [FT.batch, FT.size, FT.size, 3]);
  return (setup = { split, bottom, top: foldForTraining(split.top), head, x, labels, actShape: split.top.inputs[0]!.shape.slice(1) as number[] });
}

const PER_IMAGE = FT.size * FT.size * 3;

function frozenActivations(s: Setup): Float32Array {
  const size = s.actShape.reduce((p, q) => p * q, 1);
  const out = new Float32Array(FT.images * size);
  for (let i = 0; i < FT.images; i += FT.batch) {
    const a = tf.tidy(() => s.bottom.predict(tf.tensor4d(s.x.subarray(i * PER_IMAGE, (i + FT.batch) * PER_IMAGE), [FT.batch, FT.size, FT.size, 3]))[0]!);
    out.set(a.dataSync(), i * size);
    a.dispose();
  }
  return out;
}

const PHASE: PhaseConfig = {
  epochs: 1, optimizer: "adam", learning_rate: 1e-4, batch_size: FT.batch,
  schedule: { type: "constant", warmup_epochs: 0, step_epochs: 1, gamma: 1, min_factor: 0 },
  early_stopping: { enabled: false, monitor: "val_loss", patience: 0, min_delta: 0, restore_best: false },
};

/** What runs: the stage's path (BatchNorm folded, compiled steps), `eager` (folded, op by op), `unfolded` (the LayersModels as they are, op by op). */
export type FinetuneVariant = "stage" | "eager" | "unfolded";

/**
 * Steps of a fit() that run once: the first (Adam lays out its moments), and on the compiled
 * path the second (recorded, then compiled) and the third (checked against an eager step).
 * Keras' timer likewise leaves out its first step, where fit traces its graph.
 */
const SETUP_STEPS = 3;

/**
 * Train `steps` steps (one fit() epoch). Returns steps/s over the steps after the setup steps,
 * and `setup_s`: how much longer the setup steps after the first took than as many steady
 * steps (the one-off cost of compiling). `cached`: the top trains on stored frontier activations (no bottom pass).
 */
export async function finetuneRate(cached: boolean, steps: number, variant: FinetuneVariant): Promise<Record<string, number | string>> {
  const unfolded = variant === "unfolded";
  const s = await prepare();
  if (cached && !s.acts) s.acts = frozenActivations(s);
  const actSize = s.actShape.reduce((p, q) => p * q, 1);
  const nb = FT.images / FT.batch;
  const bottom = (t: tf.Tensor): tf.Tensor => (unfolded ? (s.split.bottom.predict(t) as tf.Tensor) : s.bottom.predict(t)[0]!);
  async function* epoch(): AsyncGenerator<Batch> {
    for (let k = 0; k < steps; k++) {
      const b = k % nb;
      const y = targets(s.labels.slice(b * FT.batch, (b + 1) * FT.batch), FT.classes, false);
      if (cached) {
        yield { x: tf.tensor(s.acts!.slice(b * FT.batch * actSize, (b + 1) * FT.batch * actSize), [FT.batch, ...s.actShape]), y, n: FT.batch };
      } else {
        const x = tf.tidy(() => bottom(tf.tensor4d(s.x.subarray(b * FT.batch * PER_IMAGE, (b + 1) * FT.batch * PER_IMAGE), [FT.batch, FT.size, FT.size, 3])));
        yield { x, y, n: FT.batch };
      }
    }
  }
  const forward = (x: tf.Tensor | tf.Tensor[], training: boolean): tf.Tensor =>
    s.head.apply(tf.mean(unfolded ? (s.split.top.apply(x, { training: false }) as tf.Tensor) : s.top.predict(x)[0]!, [1, 2]), { training }) as tf.Tensor;
  const variables = [...s.split.top.trainableWeights, ...s.head.trainableWeights].map((v) => v.read() as tf.Variable);
  const ends: number[] = [];
  const before = numTensors();
  const setting = process.env.TLRUN_COMPILED_STEP;
  if (variant !== "stage") process.env.TLRUN_COMPILED_STEP = "0";
  const result = await fit({
    phaseName: "bench", phase: PHASE, epochOffset: 0, variables, forward,
    loss: (y, p) => headLoss(s.head, y, p), batches: epoch, batchesPerEpoch: steps,
    validate: async () => ({ loss: 0, accuracy: 0 }),
    callbacks: { onBatchEnd: () => void ends.push(performance.now()) }, checkAbort: () => undefined,
  }).finally(() => (setting === undefined ? delete process.env.TLRUN_COMPILED_STEP : (process.env.TLRUN_COMPILED_STEP = setting)));
  assertFlat(`fine-tune (${cached ? "cached" : "full"})`, [before, numTensors()]);
  const timed = ends.slice(SETUP_STEPS - 1);
  if (timed.length < 2) throw new Error(`finetuneRate needs more than ${SETUP_STEPS} steps, got ${steps}`);
  const steady = (timed[timed.length - 1]! - timed[0]!) / 1000 / (timed.length - 1);
  const setup = (timed[0]! - ends[0]!) / 1000 - (SETUP_STEPS - 1) * steady;
  return { steps_per_s: 1 / steady, steps: timed.length - 1, setup_steps: SETUP_STEPS, setup_s: setup, trainable_variables: variables.length, num_tensors: before, step_runner: result.steps };
}
