import type { PipelineConfig } from "../config/types";
import { toposort } from "./graph";
import { strategySettings } from "./strategy-table";

export const STAGE_NAMES = ["dataset", "weights", "prepare", "probe", "extract", "audit", "train-head", "unfreeze", "fine-tune", "evaluate"] as const;
export type StageName = (typeof STAGE_NAMES)[number];

/**
 * Stages whose output lives outside the stage cache: the data folder (built when the config names
 * a built-in dataset) and the base's weights (fetched once into $TLRUN_CACHE). Each is ready when
 * its output is present; its digest is the identity of that output.
 */
export const SOURCE_STAGES: ReadonlySet<StageName> = new Set<StageName>(["dataset", "weights"]);

/** One stage of a compiled pipeline: its dependencies and the slice of config its output depends on. */
export interface StageNode {
  name: StageName;
  deps: StageName[];
  params: Record<string, unknown>;
}

/** The compiled pipeline: stages in the order they run. */
export interface CompiledPipeline {
  name: string;
  stages: StageNode[];
}

/**
 * Stage semantics versions: bump one when a stage's output changes for the same inputs, so old
 * cache entries stop matching.
 */
export const STAGE_VERSIONS: Record<StageName, number> = {
  dataset: 1,
  weights: 1,
  prepare: 2, // 2: keyed on the dataset stage's digest
  probe: 3, // 1: strategy: auto's linear probe per depth; 2: a one-hidden-layer probe on raw features; 3: all depths in one pass (the same features to float rounding)
  extract: 5, // 3: PNGs decoded in JS, bilinear resampling by default, 601 luma for grayscale; 4: augmentation's warp in f32; 5: keyed on the weights stage
  audit: 4, // 2: candidates verified on aligned thumbnails; 3: counts held-out images with a pixel-identical twin apart; 4: confirm band from the feature neighbours, and signatures from one 32×32 pass (a thumbnail level can differ by 1 where it rounded at .5)
  "train-head": 3, // 2: a new dropout mask every step (SeededDropout), compiled training steps; 3: early_stopping.patience as Keras (N epochs without improvement, not N+1)
  unfreeze: 2, // 2: writes the resolver's freeze plan
  "fine-tune": 6, // 3: the decoder change of extract 3; 4: as train-head 2; 5: as extract 4; 6: must beat the head (baseline); 7: patience as train-head 3
  evaluate: 5, // 4: the decoder change of extract 3; 5: val predictions, threshold, intervals, Grad-CAM
};

/** The augmentation settings the extract stage's output depends on (not the fine-tune views). */
function extractAugment(a: PipelineConfig["augment"]): Omit<PipelineConfig["augment"], "fine_tune_views"> {
  const { fine_tune_views: _unused, ...rest } = a;
  return rest;
}

/**
 * Class weighting and balanced sampling, for the two training stages only. Left out at their
 * defaults, so that the keys of configs that do not use them stay what they were.
 */
function balance(c: PipelineConfig): Record<string, unknown> {
  return {
    ...(c.train.class_weight !== null ? { class_weight: c.train.class_weight } : {}),
    ...(c.data.sampling !== "none" ? { sampling: c.data.sampling } : {}),
  };
}

/**
 * How prepare reads a labels table, for its key; nothing for class folders, so that their keys
 * stay what they were. The table's content enters through the dataset stage's digest (sources.ts).
 */
function table(data: PipelineConfig["data"]): Record<string, unknown> {
  return !data.labels ? {} : { labels: data.labels, columns: data.columns, on_missing: data.on_missing };
}

/**
 * Until 2026-12-05 sgd trained at its first rate whatever the phase's learning rate said
 * (training/optimizer.ts). Entries trained with sgd before the fix must not be reused; the marker
 * renews their keys without touching the keys of adam and rmsprop runs.
 */
function sgdRate(phase: { optimizer: string }): Record<string, unknown> {
  return phase.optimizer === "sgd" ? { sgd_rate: 2 } : {};
}

/**
 * strategy: auto's probe, keyed on what its features and sample depend on: not the cut, freeze.at
 * or fine-tune it decides, nor the table's thresholds, so editing those reuses it.
 */
function probeNode(c: PipelineConfig): StageNode[] {
  const s = strategySettings(c);
  if (s.mode !== "auto") return [];
  const { data, base, seed } = c;
  const probe = { depths: s.depths, train_per_class: s.probe_train_per_class, val_per_class: s.probe_val_per_class };
  return [{
    name: "probe",
    deps: ["prepare", "weights"],
    params: { seed, model: base.model, weights: base.weights, input_size: base.input_size, color_mode: data.color_mode, interpolation: data.interpolation, preprocessing: data.preprocessing, max_pixels: data.max_pixels, probe },
  }];
}

/** data.split without the group settings while they are empty, so that ungrouped keys stay what they were. */
function splitParams(split: PipelineConfig["data"]["split"]): Record<string, unknown> {
  const { group_by, group_pattern, ...ratios } = split;
  return { ...ratios, ...(group_by ? { group_by } : {}), ...(group_pattern ? { group_pattern } : {}) };
}

/**
 * The audit's drop policies, when any is set: only then do the training and evaluation stages
 * read the audited manifest, and so depend on the audit. A config that only warns (the default)
 * or stops on a leak keeps the keys it had before the audit existed.
 */
export function auditDrops(c: PipelineConfig): { leakage: boolean; duplicates: boolean } | undefined {
  const a = c.data.audit;
  if (!a?.enabled) return undefined;
  const drops = { leakage: a.leakage === "drop", duplicates: a.duplicates === "drop" };
  return drops.leakage || drops.duplicates ? drops : undefined;
}

/** `audit` among a stage's dependencies when a drop policy makes its manifest the one to use. */
function audited(c: PipelineConfig, deps: StageName[]): StageName[] {
  return auditDrops(c) ? [...deps, "audit"] : deps;
}

function stageNodes(c: PipelineConfig): StageNode[] {
  const { data, base, augment, head, train, freeze, seed } = c;
  const fineTune = train.fine_tune;
  const nodes: StageNode[] = [
    { name: "dataset", deps: [], params: { dir: data.dir, builtin: data.builtin } },
    { name: "weights", deps: [], params: { model: base.model, weights: base.weights } },
    {
      name: "prepare",
      deps: ["dataset"],
      params: { seed, split: splitParams(data.split), on_bad_image: data.on_bad_image, max_pixels: data.max_pixels, exclude_classes: data.exclude_classes, ...table(data) },
    },
    ...probeNode(c),
    {
      name: "extract",
      deps: ["prepare", "weights"],
      params: { seed, base, color_mode: data.color_mode, interpolation: data.interpolation, preprocessing: data.preprocessing, max_pixels: data.max_pixels, augment: extractAugment(augment), ...(head.depths ? { head_depths: head.depths } : {}) },
    },
  ];
  // what is found does not depend on the policy; what is dropped does
  const drops = auditDrops(c);
  const thresholds = data.audit?.thresholds ?? {};
  if (data.audit?.enabled)
    nodes.push({ name: "audit", deps: ["prepare", "extract"], params: { seed, ...(drops ? { drop: drops } : {}), ...(Object.keys(thresholds).length ? { thresholds } : {}) } });
  nodes.push(
    // head.depths enters the key only when set, so heads on the cut alone keep the keys they had before it existed
    { name: "train-head", deps: audited(c, ["extract"]), params: { seed, head: headKey(head), phase: train.head, ...balance(c), ...sgdRate(train.head) } },
  );
  if (fineTune) {
    nodes.push(
      { name: "unfreeze", deps: ["train-head", "weights"], params: { freeze, cut: base.cut, input_size: base.input_size, fine_tune: { epochs: fineTune.epochs, lr_decay: fineTune.lr_decay, lr_multipliers: fineTune.lr_multipliers } } },
      { name: "fine-tune", deps: audited(c, ["unfreeze", "prepare"]), params: { seed, phase: fineTune, augment, batchnorm: freeze.batchnorm, gradual: freeze.gradual, ...balance(c), ...sgdRate(fineTune) } },
    );
  }
  nodes.push({
    name: "evaluate",
    deps: audited(c, [fineTune ? "fine-tune" : "train-head", "prepare", "extract"]),
    params: { seed, evaluate: c.evaluate, color_mode: data.color_mode },
  });
  return nodes;
}

/** The head's params for its stage key: without `depths` when it is null. */
function headKey(head: PipelineConfig["head"]): Partial<PipelineConfig["head"]> {
  const { depths, ...rest } = head;
  return depths ? head : rest;
}

/** Compile a validated config into the stages it needs, in run order. Pure: no I/O, no TensorFlow. */
export function compile(config: PipelineConfig): CompiledPipeline {
  return { name: config.name, stages: toposort(stageNodes(config)) };
}
