import type { PipelineConfig } from "./types";

/**
 * Whether the config augments at all: any transform on. Without one, every epoch sees the same
 * images, so extract makes no augmented copies and fine-tune computes its frozen activations once;
 * `tlrun plan` sizes fine-tune's scratch files by the same rule.
 */
export function augmentEnabled(c: PipelineConfig["augment"]): boolean {
  return c.horizontal_flip || c.vertical_flip || c.rotation > 0 || c.zoom > 0 || c.shift > 0 || c.brightness > 0 || c.contrast > 0;
}
