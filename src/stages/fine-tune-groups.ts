import type * as tf from "@tensorflow/tfjs";
import type { PipelineConfig } from "../config/types";
import { resolveLayerRef } from "../models/freeze-point";
import type { ParamGroup } from "../training/param-groups";
import { unfreezeSchedule } from "../training/unfreeze-schedule";

/** One block's place in the fine-tune schedule, as the stage reports it (epochs 1-based). */
export interface BlockSchedule {
  block: string;
  from_epoch: number;
  lr_factor: number;
}

/**
 * The fine-tune phase's parameter groups: the head at the phase's rate from the first epoch, and
 * the trainable layers of `top` (the base from layer `at` of `baseNames` on) grouped by the epoch
 * they start in (`freeze.gradual`) and their rate factor (`lr_decay`, `lr_multipliers`). Layers
 * with factor 0 stay frozen.
 */
export function fineTuneGroups(config: PipelineConfig, baseNames: string[], at: number, top: tf.LayersModel, head: tf.LayersModel): { groups: ParamGroup[]; blocks: BlockSchedule[] } {
  const ft = config.train.fine_tune!;
  const weightsOf = (name: string): tf.Variable[] => top.getLayer(name).trainableWeights.map((w) => w.read() as tf.Variable);
  const schedule = unfreezeSchedule(baseNames, Math.max(1, at), (name) => weightsOf(name).length > 0, {
    gradual: config.freeze.gradual,
    epochs: ft.epochs,
    lrDecay: ft.lr_decay,
    multipliers: ft.lr_multipliers.map((m) => ({ index: resolveLayerRef(baseNames, m.from)!, factor: m.factor })),
  });
  const groups = new Map<string, ParamGroup>([["0:1", { variables: head.trainableWeights.map((w) => w.read() as tf.Variable), lrFactor: 1, fromEpoch: 0 }]]);
  for (const l of schedule) {
    if (l.lrFactor === 0) continue;
    const key = `${l.fromEpoch}:${l.lrFactor}`;
    if (!groups.has(key)) groups.set(key, { variables: [], lrFactor: l.lrFactor, fromEpoch: l.fromEpoch });
    groups.get(key)!.variables.push(...weightsOf(l.name));
  }
  const blocks = new Map(schedule.map((l) => [`${l.block}:${l.lrFactor}`, { block: l.block, from_epoch: l.fromEpoch + 1, lr_factor: l.lrFactor }]));
  return { groups: [...groups.values()], blocks: [...blocks.values()] };
}
