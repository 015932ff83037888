import type * as tf from "@tensorflow/tfjs";
import type { FreezePlan } from "../plan/freeze";
import type { ParamGroup } from "../training/param-groups";

/**
 * The fine-tune phase's parameter groups: the head at the phase's rate from the first epoch, then
 * the resolver's layer groups (`freeze.gradual`, `lr_decay`, `lr_multipliers`) with the variables
 * of `top`'s layers. A base group at the head's epoch and rate joins the head's group.
 */
export function fineTuneGroups(freeze: Pick<FreezePlan, "groups">, top: tf.LayersModel, head: tf.LayersModel): ParamGroup[] {
  const weightsOf = (name: string): tf.Variable[] => top.getLayer(name).trainableWeights.map((w) => w.read() as tf.Variable);
  const groups = new Map<string, ParamGroup>([["0:1", { variables: head.trainableWeights.map((w) => w.read() as tf.Variable), lrFactor: 1, fromEpoch: 0 }]]);
  for (const g of freeze.groups) {
    const key = `${g.fromEpoch}:${g.lrFactor}`;
    if (!groups.has(key)) groups.set(key, { variables: [], lrFactor: g.lrFactor, fromEpoch: g.fromEpoch });
    for (const name of g.layers) groups.get(key)!.variables.push(...weightsOf(name));
  }
  return [...groups.values()];
}
