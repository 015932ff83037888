import { storedTrainViews } from "../config/augment";
import type { LoadedConfig } from "../config/types";
import { baseTopology } from "../models/build";
import { outputShapes } from "../models/layer-shapes";
import { resolveCut } from "../models/layers";
import { baseShape } from "../models/source";
import type { PlanCounts } from "./class-counts";
import { scratchDirOf } from "./paths";
import type { Plan } from "./resolve";

/** What fine-tune will write to its scratch folder, as `tlrun plan` shows it. */
export interface ScratchEstimate {
  /** The scratch folder (runtime.scratch_dir, or <runs_dir>/.scratch). */
  dir: string;
  /** Bytes of frozen activations it writes; undefined when the image counts or shapes are unknown. */
  bytes?: number;
  /** Bytes per image and view: the frozen part's outputs at the freeze point, float32. */
  bytes_per_image?: number;
  /** Views stored: the validation images once, the training images `train_views` times (0: computed every epoch). */
  train_views: number;
  images?: { train: number; val: number };
  /** Why there is no figure, or why none is needed. */
  note?: string;
}

/**
 * The size of fine-tune's scratch files: images x views x the freeze point's activations x 4
 * bytes. The validation images are stored once; the training images once per fixed view (the
 * plain images when augmentation is off, or the plain view and the `augment.fine_tune_views`
 * augmented ones the phase's epochs read), or not at all when they are augmented afresh each epoch. Counts come from the file names, so images
 * prepare drops as undecodable make it an upper bound. Undefined without a fine-tune phase.
 */
export function scratchEstimate(loaded: LoadedConfig, plan: Plan, counts: PlanCounts): ScratchEstimate | undefined {
  const config = loaded.config;
  if (!config.train.fine_tune || !plan.freeze) return undefined;
  const dir = scratchDirOf(loaded);
  const trainViews = storedTrainViews(config.augment, config.train.fine_tune.epochs);
  if (plan.stages.find((s) => s.name === "fine-tune")?.cached) return { dir, bytes: 0, train_views: trainViews, note: "fine-tune is cached" };
  const shape = baseShape(config.base.model, loaded.baseDir);
  const shapes = outputShapes(baseTopology(shape, resolveCut(shape, config.base.cut), config.base.input_size), plan.freeze.frontier);
  const perImage = shapes && 4 * shapes.reduce((a, s) => a + s.reduce((x, y) => x * y, 1), 0);
  if (!counts.known) return { dir, bytes_per_image: perImage, train_views: trainViews, note: "image counts unknown until the data folder exists" };
  const total = (split: "train" | "val"): number => Object.values(counts.counts[split]).reduce((a, b) => a + b, 0);
  const images = { train: total("train"), val: total("val") };
  if (perImage === undefined) return { dir, train_views: trainViews, images, note: "the activation shape at the freeze point is unknown (a layer tlrun cannot size without TensorFlow)" };
  return { dir, bytes: perImage * (images.val + trainViews * images.train), bytes_per_image: perImage, train_views: trainViews, images };
}
