/**
 * Layer output shapes read off a topology (src/models/layer-shapes.ts), which `tlrun plan` uses to
 * size fine-tune's scratch files, must be tfjs' own: every layer of the embedded base and of the
 * zoo (all 22 architectures when not TLRUN_FAST), at a square and an odd input size; an unknown
 * layer makes the answer unknown.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import "../../src/models/zoo/custom-layers";
import { ARCHITECTURES } from "../../src/models/zoo";
import { loadArtifacts } from "../../src/models/source";
import { resolveCut } from "../../src/models/layers";
import { cutAt, functionalConfig, withInputSize, type ModelTopology } from "../../src/models/topology";
import { outputShapes } from "../../src/models/layer-shapes";

/** Every layer's shape from outputShapes against the built tfjs model's. */
async function assertShapesMatch(label: string, topo: ModelTopology): Promise<void> {
  const names = functionalConfig(topo).layers.map((l) => l.name);
  const mine = outputShapes(topo, names);
  assert.ok(mine, `${label}: some layer has no shape`);
  const model = await tf.models.modelFromJSON({ modelTopology: topo } as unknown as tf.io.ModelJSON);
  try {
    model.layers.forEach((l, i) => assert.deepEqual(mine[i], (l.outputShape as number[]).slice(1), `${label}: ${l.name} (${l.getClassName()})`));
  } finally {
    model.dispose();
  }
}

const sized = (t: ModelTopology, cut: string, size: [number, number]): ModelTopology => withInputSize(cutAt(t, cut), size);

test("layer shapes of the embedded MobileNetV2 and the zoo's, at 97x131, are tfjs' own", async () => {
  const embedded = loadArtifacts("mobilenet_v2", process.cwd());
  await assertShapesMatch("embedded mobilenet_v2", sized(embedded.topology, resolveCut(embedded, ""), [97, 131]));
  for (const name of ["mobilenet_v2", "vgg16", "xception"]) {
    const a = ARCHITECTURES[name]!;
    await assertShapesMatch(name, sized(a.topology(), a.defaultCut, [97, 131]));
  }
});

test("layer shapes of every zoo architecture at 96x96 are tfjs' own", { skip: process.env.TLRUN_FAST ? "slow: TLRUN_FAST is set" : false, timeout: 10 * 60_000 }, async () => {
  for (const [name, a] of Object.entries(ARCHITECTURES)) await assertShapesMatch(name, sized(a.topology(), a.defaultCut, [96, 96]));
});

test("a layer it cannot size makes the shapes after it unknown, not a guess", () => {
  const layer = (class_name: string, name: string, config: Record<string, unknown>, from?: string) => ({ class_name, name, config, inbound_nodes: from ? [[[from, 0, 0, {}]]] : [] });
  const topo = {
    class_name: "Functional",
    config: {
      name: "m",
      layers: [
        layer("InputLayer", "in", { batch_input_shape: [null, 8, 6, 3] }),
        layer("Conv2D", "c", { filters: 4, kernel_size: [3, 3], strides: [2, 2], padding: "valid" }, "in"),
        layer("SomeCustomLayer", "odd", {}, "c"),
        layer("ReLU", "after", {}, "odd"),
        { ...layer("Concatenate", "cat", { axis: -1 }), inbound_nodes: [[["in", 0, 0, {}], ["in", 0, 0, {}]]] },
      ],
      input_layers: [["in", 0, 0]],
      output_layers: [["after", 0, 0]],
    },
  } as unknown as ModelTopology;
  assert.deepEqual(outputShapes(topo, ["c", "cat"]), [[3, 2, 4], [8, 6, 6]]);
  assert.equal(outputShapes(topo, ["c", "after"]), undefined);
});
