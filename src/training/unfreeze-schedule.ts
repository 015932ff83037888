import { layerBlocks } from "../models/freeze-point";

/** When a trainable base layer starts training and how fast it learns, relative to the head. */
export interface LayerSchedule {
  name: string;
  block: string;
  /** First fine-tune epoch (0-based) in which the layer trains. */
  fromEpoch: number;
  lrFactor: number;
}

export interface ScheduleOptions {
  /** Unfreeze block by block from the top, spread evenly over `epochs`. */
  gradual: boolean;
  epochs: number;
  /** Geometric factor per block: the top block learns at lrDecay, the next at lrDecay^2, ... */
  lrDecay: number;
  /** Explicit factors: a layer takes the factor of the last range starting at or below it. */
  multipliers: Array<{ index: number; factor: number }>;
}

/**
 * The fine-tune schedule of the base's layers from `at` up: `names` are the cut base's layers in
 * order, `trains(name)` says whether a layer has weights that train. Blocks are Keras'; counting
 * from the top (0), block k starts in epoch floor(k * epochs / blocks), so the top block trains
 * alone first and every block trains in the last epoch.
 */
export function unfreezeSchedule(names: readonly string[], at: number, trains: (name: string) => boolean, o: ScheduleOptions): LayerSchedule[] {
  const blocks = layerBlocks(names);
  const layers = names.map((name, i) => ({ name, i, block: blocks[i]! })).filter((l) => l.i >= at && trains(l.name));
  const fromTop = [...new Set(layers.map((l) => l.block))].reverse();
  const ranges = [...o.multipliers].sort((a, b) => a.index - b.index);
  const factor = (i: number, depth: number): number =>
    ranges.length ? (ranges.filter((r) => r.index <= i).pop()?.factor ?? 1) : Math.pow(o.lrDecay, depth + 1);
  return layers.map(({ name, i, block }) => {
    const depth = fromTop.indexOf(block);
    return { name, block, fromEpoch: o.gradual ? Math.floor((depth * o.epochs) / fromTop.length) : 0, lrFactor: factor(i, depth) };
  });
}
