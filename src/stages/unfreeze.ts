import { readFileSync } from "node:fs";
import { join } from "node:path";
import { TlrunError, didYouMean } from "../errors";
import { buildSplitBase } from "../models/build";
import { layerRefNames } from "../models/freeze-point";
import { baseLayers, freezeIndex, resolveCut } from "../models/layers";
import { writeFileAtomic } from "../util/atomic";
import type { Stage } from "./types";

/** The fine-tune plan an unfreeze entry records. */
export interface UnfreezeSpec {
  index: number;
  layer: string;
  frontier: string[];
  trainableLayers: string[];
  trainableParams: number;
  frozenParams: number;
  batchnorm: "frozen" | "train";
}

export const UNFREEZE_FILE = "unfreeze.json";

export function readUnfreeze(dir: string): UnfreezeSpec {
  return JSON.parse(readFileSync(join(dir, UNFREEZE_FILE), "utf8")) as UnfreezeSpec;
}

/**
 * unfreeze: decide which base layers train. Layers from `freeze.at` on train; the base is split
 * there so the frozen part runs in inference mode outside the gradient tape. BatchNorm layers
 * stay in inference mode and frozen unless `freeze.batchnorm: train` (keras issue 9214).
 */
export const unfreeze: Stage = {
  name: "unfreeze",
  needsTf: true,
  async run(ctx) {
    const { base, freeze } = ctx.config;
    const a = ctx.artifacts();
    const cut = resolveCut(a, base.cut);
    const layers = baseLayers(a, cut, a.weightSpecs);
    const index = freezeIndex(layers, freeze.at);
    if (index === undefined)
      throw new TlrunError(`freeze.at '${freeze.at}' is not a layer of the base; ${didYouMean(String(freeze.at), layerRefNames(layers.map((l) => l.name)))}`, 2);
    const split = await buildSplitBase(a, cut, base.input_size, index);
    try {
      const trainable = layers.slice(Math.max(1, index));
      const isBn = (c: string): boolean => c === "BatchNormalization";
      const trains = (c: string): boolean => freeze.batchnorm === "train" || !isBn(c);
      const spec: UnfreezeSpec = {
        index,
        layer: layers[index]!.name,
        frontier: split.frontier,
        trainableLayers: trainable.filter((l) => l.params > 0 && trains(l.className)).map((l) => l.name),
        trainableParams: trainable.filter((l) => trains(l.className)).reduce((s, l) => s + l.params, 0),
        frozenParams: layers.reduce((s, l) => s + l.params, 0) - trainable.filter((l) => trains(l.className)).reduce((s, l) => s + l.params, 0),
        batchnorm: freeze.batchnorm,
      };
      writeFileAtomic(join(ctx.out, UNFREEZE_FILE), JSON.stringify(spec, null, 2));
      ctx.progress(`${spec.trainableLayers.length} layers from ${spec.layer} train (${spec.trainableParams} params)`);
      return { info: { layer: spec.layer, index, trainable_params: spec.trainableParams, frozen_params: spec.frozenParams } };
    } finally {
      split.bottom.dispose();
      split.top.dispose();
    }
  },
};
