import type { PipelineConfig } from "../config/types";
import { toposort } from "./graph";

export const STAGE_NAMES = ["prepare", "extract", "train-head", "unfreeze", "fine-tune", "evaluate"] as const;
export type StageName = (typeof STAGE_NAMES)[number];

/** One stage of a compiled plan: its dependencies and the slice of config its output depends on. */
export interface StageNode {
  name: StageName;
  deps: StageName[];
  params: Record<string, unknown>;
}

/** The compiled pipeline: stages in the order they run. */
export interface Plan {
  name: string;
  stages: StageNode[];
}

/**
 * Stage semantics versions: bump one when a stage's output changes for the same inputs, so old
 * cache entries stop matching.
 */
export const STAGE_VERSIONS: Record<StageName, number> = {
  prepare: 1,
  extract: 4, // 3: PNGs decoded in JS, bilinear resampling by default, 601 luma for grayscale; 4: augmentation's warp in f32
  "train-head": 2, // 2: a new dropout mask every step (SeededDropout), compiled training steps
  unfreeze: 1,
  "fine-tune": 5, // 3: the decoder change of extract 3; 4: as train-head 2; 5: as extract 4
  evaluate: 4, // 4: the decoder change of extract 3
};

/** The augmentation settings the extract stage's output depends on (not the fine-tune views). */
function extractAugment(a: PipelineConfig["augment"]): Omit<PipelineConfig["augment"], "fine_tune_views"> {
  const { fine_tune_views: _unused, ...rest } = a;
  return rest;
}

function stageNodes(c: PipelineConfig): StageNode[] {
  const { data, base, augment, head, train, freeze, seed } = c;
  const fineTune = train.fine_tune;
  const nodes: StageNode[] = [
    {
      name: "prepare",
      deps: [],
      params: { seed, split: data.split, on_bad_image: data.on_bad_image, max_pixels: data.max_pixels, exclude_classes: data.exclude_classes },
    },
    {
      name: "extract",
      deps: ["prepare"],
      params: { seed, base, color_mode: data.color_mode, interpolation: data.interpolation, preprocessing: data.preprocessing, max_pixels: data.max_pixels, augment: extractAugment(augment) },
    },
    { name: "train-head", deps: ["extract"], params: { seed, head, phase: train.head } },
  ];
  if (fineTune) {
    nodes.push(
      { name: "unfreeze", deps: ["train-head"], params: { freeze } },
      { name: "fine-tune", deps: ["unfreeze", "prepare"], params: { seed, phase: fineTune, augment, batchnorm: freeze.batchnorm, gradual: freeze.gradual } },
    );
  }
  nodes.push({
    name: "evaluate",
    deps: [fineTune ? "fine-tune" : "train-head", "prepare", "extract"],
    params: { split: c.evaluate.split },
  });
  return nodes;
}

/** Compile a validated config into the stages it needs, in run order. Pure: no I/O, no TensorFlow. */
export function compile(config: PipelineConfig): Plan {
  return { name: config.name, stages: toposort(stageNodes(config)) };
}
