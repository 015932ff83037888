import * as tf from "@tensorflow/tfjs";
import type { PhaseConfig } from "../config/types";
import type { NoiseSource } from "../models/seeded-dropout";
import type { Callback, EpochLogs } from "./callbacks";
import type { FitState } from "./checkpoint";
import { CompiledSteps } from "./compiled-step";
import { captureFrom, keptTensors, portableSteps, restoreInto, type FitCheckpointing, type FitTarget } from "./fit-resume";
import { GroupOptimizer, type ParamGroup } from "./param-groups";
import { learningRateAt } from "./schedule";

/** One training batch: model input(s) and one-hot (or 0/1 for sigmoid) targets. */
export interface Batch {
  x: tf.Tensor | tf.Tensor[];
  y: tf.Tensor;
  /** Per-example loss weights ([n]), from `train.class_weight`; absent: every example weighs 1. */
  w?: tf.Tensor;
  n: number;
}

export interface FitSpec {
  phaseName: string;
  phase: PhaseConfig;
  /** Epochs already run by earlier phases, for the global step. */
  epochOffset: number;
  variables: tf.Variable[];
  /**
   * Discriminative rates and gradual unfreezing: `variables` split into groups, each with its own
   * optimizer, rate factor and first epoch. Absent: all variables train at the phase's rate.
   */
  groups?: ParamGroup[];
  /** Model output (probabilities) for a batch; called inside the gradient tape. */
  forward(x: tf.Tensor | tf.Tensor[], training: boolean): tf.Tensor;
  /** The training loss of a batch; `w` is the batch's per-example weights when it has them. */
  loss(y: tf.Tensor, probs: tf.Tensor, w?: tf.Tensor): tf.Scalar;
  /** The batches of one epoch; each batch's tensors are disposed by the loop. */
  batches(epoch: number): AsyncIterable<Batch>;
  batchesPerEpoch: number;
  /** Validation loss and accuracy with the current weights. */
  validate(): Promise<{ loss: number; accuracy: number }>;
  callbacks: Callback;
  /** Throws when the run should stop (Ctrl-C); checked between batches. */
  checkAbort(): void;
  /**
   * Validation scores of the weights before the phase (the head's, for fine-tuning). With early
   * stopping and restore_best, an epoch must beat them to count as best; when none does, the
   * phase ends on the weights it started from, as Keras' `baseline` with restore would.
   */
  baseline?: { loss: number; accuracy: number };
  /**
   * Every weight training changes, trainable or not (BatchNorm's moving statistics), for a
   * checkpoint; defaults to `variables`.
   */
  state?: tf.Variable[];
  /** The dropout noise sources the forward pass draws from, whose counts a checkpoint keeps. */
  noise?: NoiseSource[];
  /** End-of-epoch checkpoints and resuming from one; absent: neither. */
  checkpoint?: FitCheckpointing;
}

export interface FitResult {
  history: EpochLogs[];
  /** 1-based; 0 when no epoch beat `baseline` and the starting weights were kept. */
  bestEpoch: number;
  stoppedEarly: boolean;
  /** How the training steps ran: as a compiled TensorFlow graph (how many), or eagerly and why. */
  steps: string;
}

function correctCount(y: tf.Tensor, probs: tf.Tensor): tf.Tensor {
  return tf.tidy(() =>
    probs.shape[1] === 1
      ? tf.sum(tf.cast(tf.equal(tf.greater(probs, 0.5), tf.greater(y, 0.5)), "float32"))
      : tf.sum(tf.cast(tf.equal(tf.argMax(probs, 1), tf.argMax(y, 1)), "float32")),
  );
}

function disposeBatch(b: Batch): void {
  tf.dispose(b.x);
  b.y.dispose();
  b.w?.dispose();
}

/**
 * A Keras-style fit loop with a learning-rate schedule, early stopping with best-weight
 * restore, per-epoch callbacks, and no tensor left behind. With `checkpoint`, it hands over its
 * whole state after every epoch and can start from such a state, ending on the same bits as a
 * run that was never stopped (docs/resume.md); it does no file I/O itself.
 */
export async function fit(spec: FitSpec): Promise<FitResult> {
  const { phase } = spec;
  const newOptimizer = (): GroupOptimizer => new GroupOptimizer(phase.optimizer, spec.groups ?? [{ variables: spec.variables, lrFactor: 1, fromEpoch: 0 }]);
  const target: FitTarget = { state: spec.state ?? spec.variables, variables: spec.variables, noise: spec.noise ?? [], opt: newOptimizer() };
  const es = phase.early_stopping;
  const better = (a: number, b: number): boolean =>
    es.monitor === "val_loss" ? a < b - es.min_delta : a > b + es.min_delta;
  const monitored = (v: { loss: number; accuracy: number }): number => (es.monitor === "val_loss" ? v.loss : v.accuracy);
  const restoring = es.enabled && es.restore_best;
  const fromBaseline = restoring && spec.baseline !== undefined;
  const resumed = await resume(spec, target, newOptimizer);
  let best = resumed ? resumed.early.best : fromBaseline ? monitored(spec.baseline!) : es.monitor === "val_loss" ? Infinity : -Infinity;
  let bestEpoch = resumed ? resumed.early.bestEpoch : -1;
  let bestWeights: tf.Tensor[] | undefined = resumed ? keptTensors(resumed.bestWeights) : fromBaseline ? spec.variables.map((v) => tf.keep(v.clone())) : undefined;
  let waited = resumed?.early.waited ?? 0;
  const history: EpochLogs[] = resumed ? [...resumed.history] : [];
  let stoppedEarly = resumed?.early.stoppedEarly ?? false;
  const steps = new CompiledSteps((x, y, w) => {
    let hits: tf.Tensor | undefined;
    const cost = target.opt.minimize(() => {
      const probs = spec.forward(x, true);
      hits = tf.keep(correctCount(y, probs));
      return spec.loss(y, probs, w);
    });
    return [cost, hits!];
  }, () => target.opt.stepState(), resumed && portableSteps(resumed.steps, spec.variables, true), target.noise);
  try {
    for (let epoch = history.length; epoch < phase.epochs && !stoppedEarly; epoch++) {
      const lr = learningRateAt(phase.learning_rate, phase.schedule, epoch, phase.epochs);
      target.opt.startEpoch(epoch, lr);
      const started = performance.now();
      let seen = 0;
      let lossSum = 0;
      let correct = 0;
      let batchIndex = 0;
      for await (const batch of spec.batches(epoch)) {
        spec.checkAbort();
        const [cost, hits] = await steps.step(batch.x, batch.y, batch.w);
        const [lossValue, hitValue] = await Promise.all([cost.data(), hits.data()]);
        // Native ops and data() resolve without reaching the event loop; yield once per batch
        // so signals, progress rendering and the tracker's uploads keep running.
        await new Promise<void>((resolve) => setImmediate(resolve));
        tf.dispose([cost, hits]);
        disposeBatch(batch);
        lossSum += lossValue[0]! * batch.n;
        correct += hitValue[0]!;
        seen += batch.n;
        batchIndex++;
        const secs = (performance.now() - started) / 1000;
        spec.callbacks.onBatchEnd?.({
          phase: spec.phaseName, epoch: epoch + 1, epochs: phase.epochs, batch: batchIndex,
          batches: spec.batchesPerEpoch, loss: lossSum / seen, images_per_second: seen / Math.max(secs, 1e-9), seconds: secs,
        });
      }
      const seconds = (performance.now() - started) / 1000;
      const val = await spec.validate();
      const logs: EpochLogs = {
        phase: spec.phaseName, epoch: epoch + 1, epochs: phase.epochs, global_epoch: spec.epochOffset + epoch + 1,
        loss: lossSum / Math.max(seen, 1), accuracy: correct / Math.max(seen, 1), val_loss: val.loss,
        val_accuracy: val.accuracy, learning_rate: lr, images_per_second: seen / Math.max(seconds, 1e-9), seconds,
      };
      history.push(logs);
      spec.callbacks.onEpochEnd?.(logs);
      const current = monitored(val);
      if ((bestEpoch < 0 && !fromBaseline) || better(current, best)) {
        best = current;
        bestEpoch = epoch;
        waited = 0;
        if (restoring) {
          tf.dispose(bestWeights ?? []);
          bestWeights = spec.variables.map((v) => tf.keep(v.clone()));
        }
      } else if (es.enabled && ++waited >= es.patience) {
        // as Keras' EarlyStopping: `waited` counts the epochs since the best, and patience N
        // stops after the Nth of them (the checkpoint keeps `waited` with this meaning)
        stoppedEarly = true;
      }
      if (spec.checkpoint) {
        const early = { best, bestEpoch, waited, stoppedEarly };
        await spec.checkpoint.save({ epochsDone: epoch + 1, history: [...history], early, ...(await captureFrom(target, bestWeights)), steps: portableSteps(steps.snapshot(), spec.variables) });
      }
    }
    if (bestWeights) spec.variables.forEach((v, i) => v.assign(bestWeights![i]!));
    return { history, bestEpoch: bestEpoch + 1, stoppedEarly, steps: steps.describe() };
  } finally {
    steps.dispose();
    tf.dispose(bestWeights ?? []);
    target.opt.dispose();
  }
}

/**
 * The checkpoint's state put into `target` and its epochs replayed to the callbacks, or
 * undefined (none, or refused: then `target` is as it was, with a fresh optimizer).
 */
async function resume(spec: FitSpec, target: FitTarget, newOptimizer: () => GroupOptimizer): Promise<FitState | undefined> {
  const saved = spec.checkpoint?.resume;
  if (!saved) return undefined;
  const refused = saved.history.length !== saved.epochsDone ? "its history does not match its epoch" : await restoreInto(saved, target);
  if (refused) {
    target.opt.dispose();
    target.opt = newOptimizer();
    spec.checkpoint!.refused(refused);
    return undefined;
  }
  for (const logs of saved.history) spec.callbacks.onEpochRestored?.(logs);
  return saved;
}

/**
 * For `tlrun doctor`: fit() a small softmax layer with Adam for one epoch of five batches, as a
 * stage would, and say whether its steps compiled (and into how many ops) or why not.
 */
export async function compiledStepCheck(): Promise<{ ok: boolean; detail: string }> {
  const w = tf.variable(tf.randomNormal([6, 3], 0, 0.1, "float32", 1), true, `doctor_step_${Date.now()}`);
  const phase: PhaseConfig = {
    epochs: 1, optimizer: "adam", learning_rate: 0.01, batch_size: 8,
    schedule: { type: "constant", warmup_epochs: 0, step_epochs: 1, gamma: 1, min_factor: 0 },
    early_stopping: { enabled: false, monitor: "val_loss", patience: 0, min_delta: 0, restore_best: false },
  };
  try {
    const { steps } = await fit({
      phaseName: "doctor", phase, epochOffset: 0, variables: [w],
      forward: (x) => tf.softmax(tf.matMul(x as tf.Tensor2D, w)),
      loss: (y, p) => tf.losses.softmaxCrossEntropy(y, tf.log(p)) as tf.Scalar,
      batches: async function* () {
        for (let i = 0; i < 5; i++) yield { x: tf.randomNormal([8, 6], 0, 1, "float32", i), y: tf.tidy(() => tf.oneHot(tf.tensor1d([0, 1, 2, 0, 1, 2, 0, 1], "int32"), 3)), n: 8 };
      },
      batchesPerEpoch: 5, validate: async () => ({ loss: 0, accuracy: 0 }), callbacks: {}, checkAbort: () => undefined,
    });
    const eager = /^eager: /.exec(steps);
    return eager ? { ok: false, detail: steps.slice(eager[0].length) } : { ok: true, detail: steps };
  } catch (err) {
    return { ok: false, detail: (err as Error).message.split("\n")[0]! };
  } finally {
    w.dispose();
  }
}
