import { readFileSync } from "node:fs";
import { join } from "node:path";
import { baseTopology } from "../models/build";
import { describeLayers, resolveCut } from "../models/layers";
import type { FreezePlan } from "../plan/freeze";
import { writeFileAtomic } from "../util/atomic";
import type { Stage } from "./types";

/** What an unfreeze entry records: the resolver's freeze plan and the parameters on each side. */
export interface UnfreezeSpec extends FreezePlan {
  trainableParams: number;
  frozenParams: number;
}

export const UNFREEZE_FILE = "unfreeze.json";

export function readUnfreeze(dir: string): UnfreezeSpec {
  return JSON.parse(readFileSync(join(dir, UNFREEZE_FILE), "utf8")) as UnfreezeSpec;
}

/**
 * unfreeze: record what fine-tuning trains, as the resolver worked it out from `freeze` (the
 * split point, its frontier, each layer's start epoch and rate), with the parameter counts on
 * each side from the weights manifest. BatchNorm stays frozen in inference mode unless
 * `freeze.batchnorm: train` (keras issue 9214). Loads no TensorFlow.
 */
export const unfreeze: Stage = {
  name: "unfreeze",
  needsTf: false,
  async run(ctx) {
    const plan = ctx.plan.freeze;
    if (!plan) throw new Error("internal: the unfreeze stage ran without a resolved freeze plan");
    const a = ctx.artifacts();
    const cut = resolveCut(a, ctx.config.base.cut);
    const layers = describeLayers(baseTopology(a, cut, ctx.config.base.input_size), a);
    const training = new Set(plan.groups.flatMap((g) => g.layers));
    const trainableParams = layers.filter((l) => training.has(l.name)).reduce((s, l) => s + l.params, 0);
    const frozenParams = layers.reduce((s, l) => s + l.params, 0) - trainableParams;
    const spec: UnfreezeSpec = { ...plan, trainableParams, frozenParams };
    writeFileAtomic(join(ctx.out, UNFREEZE_FILE), JSON.stringify(spec, null, 2));
    ctx.progress(`${training.size} layers from ${plan.layer} train (${trainableParams} params)`);
    return { info: { layer: plan.layer, index: plan.index, trainable_params: trainableParams, frozen_params: frozenParams } };
  },
};
