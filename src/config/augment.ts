import type { PipelineConfig } from "./types";

/**
 * Whether the config augments at all: any transform on. Without one, every epoch sees the same
 * images, so extract makes no augmented copies and fine-tune computes its frozen activations once;
 * `tlrun plan` sizes fine-tune's scratch files by the same rule.
 */
export function augmentEnabled(c: PipelineConfig["augment"]): boolean {
  return c.horizontal_flip || c.vertical_flip || c.rotation > 0 || c.zoom > 0 || c.shift > 0 || c.brightness > 0 || c.contrast > 0;
}

/**
 * How many views of the training images fine-tune stores for a phase of `epochs` epochs: the plain
 * images when augmentation is off; with `fine_tune_views` N, the plain view and the N augmented
 * ones, except those no epoch reads (epoch e reads view e mod (N + 1)); 0 when each epoch augments
 * afresh. The stage stores exactly these, and `tlrun plan` sizes the scratch files by them.
 */
export function storedTrainViews(c: PipelineConfig["augment"], epochs: number): number {
  if (!augmentEnabled(c)) return 1;
  return c.fine_tune_views > 0 ? Math.min(c.fine_tune_views, Math.max(0, epochs - 1)) + 1 : 0;
}
