import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { ARCHITECTURES } from "../../src/models/zoo";
import "../../src/models/zoo/custom-layers";
import { classTrains, resolveFreeze } from "../../src/plan/freeze";
import { loadArtifacts } from "../../src/models/source";
import { functionalConfig, type ModelTopology } from "../../src/models/topology";
import { defaultConfig } from "./fixtures";

const ROOT = process.cwd();

/** The layers that train in fine-tuning as tfjs builds them: fine-tune's own rule on real layers. */
async function trainingLayers(topology: ModelTopology, batchnorm: "frozen" | "train"): Promise<string[]> {
  const model = await tf.models.modelFromJSON({ modelTopology: topology } as unknown as tf.io.ModelJSON);
  try {
    for (const l of model.layers) l.trainable = l.getClassName() !== "BatchNormalization" || batchnorm === "train";
    return model.layers.filter((l) => l.trainableWeights.length > 0).map((l) => l.name);
  } finally {
    model.dispose();
  }
}

const predicted = (topology: ModelTopology, batchnorm: "frozen" | "train"): string[] =>
  functionalConfig(topology).layers.filter((l) => classTrains(l.class_name, batchnorm)).map((l) => l.name);

test("the resolver's rule for which layers train matches tfjs on every zoo architecture and the embedded base", { skip: process.env.TLRUN_FAST ? "slow: TLRUN_FAST is set" : false, timeout: 10 * 60_000 }, async () => {
  await tf.setBackend("cpu");
  const topologies: Array<[string, ModelTopology]> = Object.entries(ARCHITECTURES).map(([name, a]) => [name, a.topology()]);
  topologies.push(["embedded mobilenet_v2", loadArtifacts("mobilenet_v2", ROOT).topology]);
  for (const [name, topology] of topologies)
    for (const bn of ["frozen", "train"] as const) assert.deepEqual(predicted(topology, bn), await trainingLayers(topology, bn), `${name}, batchnorm ${bn}`);
});

test("the embedded base's rule matches tfjs (fast path of the test above)", async () => {
  await tf.setBackend("cpu");
  const topology = loadArtifacts("mobilenet_v2", ROOT).topology;
  assert.deepEqual(predicted(topology, "frozen"), await trainingLayers(topology, "frozen"));
});

test("freeze.at resolves once to an index, its frontier and the layer groups, without weights", () => {
  const c = defaultConfig();
  c.base.cut = "out_relu";
  c.freeze = { at: "block_15", gradual: true, batchnorm: "frozen" };
  c.train.fine_tune = { ...c.train.fine_tune!, epochs: 3, lr_decay: 0.5, lr_multipliers: [] };
  const shape = { topology: ARCHITECTURES.mobilenet_v2!.topology(), defaultCut: "out_relu" };
  const plan = resolveFreeze(c, shape)!;
  assert.equal(plan.layer, "block_15_expand");
  assert.deepEqual(plan.frontier, ["block_14_add"]);
  assert.deepEqual(plan.blocks, [
    { block: "block_15", from_epoch: 3, lr_factor: 0.125 },
    { block: "block_16", from_epoch: 2, lr_factor: 0.25 },
    { block: "top", from_epoch: 1, lr_factor: 0.5 },
  ]);
  assert.deepEqual(plan.groups.map((g) => [g.fromEpoch, g.lrFactor, g.layers.length]), [[2, 0.125, 3], [1, 0.25, 3], [0, 0.5, 1]]);
  assert.ok(plan.layers.every((l) => !l.name.endsWith("_BN")), "frozen BatchNorm layers do not train");
  c.train.fine_tune = null;
  assert.equal(resolveFreeze(c, shape), undefined);
});
