import type { PipelineConfig } from "../config/types";
import { resolveLayerRef } from "../models/freeze-point";
import { baseLayers, resolveCut, type LayerInfo } from "../models/layers";
import { baseTopology } from "../models/build";
import { frontier } from "../models/topology";
import type { ModelArtifacts } from "../models/source";
import { unfreezeSchedule, type LayerSchedule } from "../training/unfreeze-schedule";

/** Layer classes whose weights train (the zoo's and Keras' common ones); Normalization's are statistics. */
const TRAINABLE_CLASSES = new Set([
  "Conv1D", "Conv2D", "Conv3D", "Conv2DTranspose", "DepthwiseConv2D", "SeparableConv2D", "Dense",
  "BatchNormalization", "LayerNormalization", "PReLU", "Embedding",
]);

/** Whether a base layer of this class has weights that train in fine-tuning under `batchnorm`. */
export function classTrains(className: string, batchnorm: "frozen" | "train"): boolean {
  return TRAINABLE_CLASSES.has(className) && (className !== "BatchNormalization" || batchnorm === "train");
}

/** A parameter group of the fine-tune phase: base layers that start training together at one rate. */
export interface LayerGroup {
  /** First fine-tune epoch (0-based). */
  fromEpoch: number;
  /** The group's learning rate as a factor of the phase's. */
  lrFactor: number;
  layers: string[];
}

/** What fine-tuning trains, resolved once from `freeze` and the base's layers. */
export interface FreezePlan {
  /** Index of `freeze.at` among the cut base's layers. */
  index: number;
  layer: string;
  /** Layers below the split whose outputs feed the trained top. */
  frontier: string[];
  batchnorm: "frozen" | "train";
  /** Every base layer that trains, with its block, start epoch and rate factor. */
  layers: LayerSchedule[];
  /** `layers` grouped by start epoch and rate; layers with factor 0 stay frozen and are left out. */
  groups: LayerGroup[];
  /** Each block's start epoch (1-based) and rate, as the fine-tune stage reports it. */
  blocks: Array<{ block: string; from_epoch: number; lr_factor: number }>;
}

/**
 * Resolve `freeze.at`, the split frontier and the fine-tune's layer groups from the base's
 * topology alone (no weights, no TensorFlow). Undefined without a fine-tune phase or for a graph
 * model; throws nothing: an unknown `freeze.at` was refused by validation.
 */
export function resolveFreeze(config: PipelineConfig, shape: Pick<ModelArtifacts, "topology" | "defaultCut" | "graph">): FreezePlan | undefined {
  const ft = config.train.fine_tune;
  if (!ft || shape.graph) return undefined;
  const cut = resolveCut(shape, config.base.cut);
  const layers: LayerInfo[] = baseLayers(shape, cut);
  const names = layers.map((l) => l.name);
  const index = resolveLayerRef(names, config.freeze.at);
  if (index === undefined) return undefined;
  const { batchnorm, gradual } = config.freeze;
  const classOf = new Map(layers.map((l) => [l.name, l.className]));
  const schedule = unfreezeSchedule(names, Math.max(1, index), (name) => classTrains(classOf.get(name)!, batchnorm), {
    gradual,
    epochs: ft.epochs,
    lrDecay: ft.lr_decay,
    multipliers: ft.lr_multipliers.map((m) => ({ index: resolveLayerRef(names, m.from)!, factor: m.factor })),
  });
  const groups = new Map<string, LayerGroup>();
  for (const l of schedule) {
    if (l.lrFactor === 0) continue;
    const key = `${l.fromEpoch}:${l.lrFactor}`;
    if (!groups.has(key)) groups.set(key, { fromEpoch: l.fromEpoch, lrFactor: l.lrFactor, layers: [] });
    groups.get(key)!.layers.push(l.name);
  }
  const blocks = new Map(schedule.map((l) => [`${l.block}:${l.lrFactor}`, { block: l.block, from_epoch: l.fromEpoch + 1, lr_factor: l.lrFactor }]));
  return {
    index,
    layer: names[index]!,
    frontier: frontier(baseTopology(shape, cut, config.base.input_size), Math.max(1, index)),
    batchnorm,
    layers: schedule,
    groups: [...groups.values()],
    blocks: [...blocks.values()],
  };
}
