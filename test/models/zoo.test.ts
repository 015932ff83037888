/** The zoo's building blocks, without Python: Keras' layer order, block labels, custom layers, EfficientNet's padding. */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { functionalConfig, layerNames, type LayerJson } from "../../src/models/topology";
import { ARCHITECTURES, imagenetUrl } from "../../src/models/zoo";
import { CustomScaleLayer, Normalization } from "../../src/models/zoo/custom-layers";
import { blocksOf } from "../../src/models/zoo/blocks";
import { efficientnetTopology } from "../../src/models/zoo/efficientnet";
import { functional, input, kerasOrder, layer } from "../../src/models/zoo/layers";

/** Run `fn` twice and fail if the second run leaves more tensors behind than the first. */
function expectNoLeakedTensors(fn: () => void): void {
  fn();
  const before = tf.memory().numTensors;
  fn();
  assert.equal(tf.memory().numTensors, before, "tensors leaked");
}

const relu = (name: string, from: string[]): LayerJson => layer("Activation", name, { activation: "relu" }, from);

test("kerasOrder: layers by depth from the output, ties by Keras' depth-first walk, not by creation", () => {
  // created with the shortcut first; Keras lists the longer branch's first layer before it
  const created = [input("input_1", 8), relu("shortcut", ["input_1"]), relu("a", ["input_1"]), relu("b", ["a"]), layer("Add", "add", {}, ["b", "shortcut"])];
  assert.deepEqual(kerasOrder(created, "add").map((l) => l.name), ["input_1", "a", "b", "shortcut", "add"]);
  assert.deepEqual(layerNames(functional("m", created)), ["input_1", "a", "b", "shortcut", "add"]);
});

test("blocks: Keras' block names; unnamed layers belong to the block that follows them (Inception names a block by its closing concatenation)", () => {
  const labels = (arch: string): Map<string, string> => {
    const layers = functionalConfig(ARCHITECTURES[arch]!.topology()).layers;
    const blocks = blocksOf(layers.map((l) => ({ name: l.name, inbound: (l.inbound_nodes[0] ?? []).map((r) => r[0]) })));
    return new Map(layers.map((l, i) => [l.name, blocks[i]!]));
  };
  const v3 = labels("inception_v3");
  assert.equal(v3.get("conv2d_4"), "stem");
  assert.equal(v3.get("conv2d_5"), "mixed0");
  assert.equal(v3.get("mixed9_1"), "mixed10");
  const irv2 = labels("inception_resnet_v2");
  assert.equal(irv2.get("custom_scale_layer_39"), "block8_10");
  assert.equal(irv2.get("conv_7b"), "top");
  const eff = labels("efficientnet_b0");
  assert.equal(eff.get("normalization"), "stem");
  assert.equal(eff.get("block6a_se_excite"), "block6a");
  assert.equal(labels("mobilenet").get("conv_pad_12"), "block_12");
  const nasnet = labels("nasnet_mobile");
  assert.equal(nasnet.get("separable_conv_1_bn_reduction_left1_reduce_4"), "reduction_A_block_reduce_4");
  assert.equal(nasnet.get("normal_add_1_12"), "normal_A_block_12");
  assert.equal(nasnet.get("stem_bn1"), "stem");
});

test("EfficientNet's padding is Keras' correct_pad for the size each stride-2 block sees", () => {
  const pad = (arch: "efficientnet_b0" | "efficientnet_b2", size: number, name: string): unknown =>
    functionalConfig(efficientnetTopology(arch, size)).layers.find((l) => l.name === name)!.config.padding;
  assert.deepEqual(pad("efficientnet_b0", 224, "block3a_dwconv_pad"), [[1, 2], [1, 2]]); // 56, even, kernel 5
  assert.deepEqual(pad("efficientnet_b2", 260, "block3a_dwconv_pad"), [[2, 2], [2, 2]]); // 65, odd
  assert.deepEqual(pad("efficientnet_b2", 260, "block4a_dwconv_pad"), [[1, 1], [1, 1]]); // 33, odd, kernel 3
});

test("Normalization: Keras' (x - mean) / max(sqrt(variance), 1e-7), inverted on request, from its weights", () => {
  const norm = new Normalization({ name: "n", axis: [3] });
  const inv = new Normalization({ name: "i", axis: -1, invert: true });
  const x = tf.tensor4d([1, 2, 3, 4, 5, 6], [1, 1, 2, 3]);
  for (const l of [norm, inv]) {
    l.apply(tf.input({ shape: [1, 2, 3] }));
    tf.tidy(() => l.setWeights([tf.tensor1d([1, 2, 3]), tf.tensor1d([4, 0, 0.25]), tf.scalar(10)]));
  }
  expectNoLeakedTensors(() => {
    const y = norm.apply(x) as tf.Tensor;
    const z = inv.apply(x) as tf.Tensor;
    const round = (t: tf.Tensor): number[] => Array.from(t.dataSync()).map((v) => Math.round(v * 1e3) / 1e3);
    assert.deepEqual(round(y), [0, 0, 0, 1.5, 3e7, 6]); // variance 0: divided by 1e-7, not by 0
    assert.deepEqual(round(z), [3, 2, 4.5, 9, 2, 6]);
    tf.dispose([y, z]);
  });
  assert.deepEqual(norm.weights.map((w) => w.originalName), ["n/mean", "n/variance", "n/count"]);
  assert.throws(() => new Normalization({ name: "bad", axis: [1, 2] }), /only the channel axis/);
  x.dispose();
  norm.dispose();
  inv.dispose();
});

test("CustomScaleLayer: shortcut + residual * scale, and it survives a save/load round trip", async () => {
  const a = tf.input({ shape: [2] });
  const b = tf.input({ shape: [2] });
  const model = tf.model({ inputs: [a, b], outputs: new CustomScaleLayer({ name: "s", scale: 0.17 }).apply([a, b]) as tf.SymbolicTensor });
  const reloaded = await tf.models.modelFromJSON({ modelTopology: model.toJSON(null, false) } as unknown as tf.io.ModelJSON);
  const x = [tf.tensor2d([[1, 2]]), tf.tensor2d([[10, 100]])];
  expectNoLeakedTensors(() => {
    for (const m of [model, reloaded]) {
      const y = m.predict(x) as tf.Tensor;
      assert.deepEqual(Array.from(y.dataSync()).map((v) => Math.round(v * 1e4) / 1e4), [2.7, 19]);
      y.dispose();
    }
  });
  tf.dispose(x);
  model.dispose();
  reloaded.dispose();
});

test("the weights mirror serves EfficientNet's files (Keras' other bucket) from its root, the others below their folder", () => {
  process.env.TLRUN_KERAS_WEIGHTS_MIRROR = "http://mirror.test/keras/";
  try {
    assert.equal(imagenetUrl(ARCHITECTURES.efficientnet_b0!), "http://mirror.test/keras/efficientnetb0_notop.h5");
    assert.equal(imagenetUrl(ARCHITECTURES.inception_v3!), "http://mirror.test/keras/inception_v3/inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5");
  } finally {
    delete process.env.TLRUN_KERAS_WEIGHTS_MIRROR;
  }
  assert.equal(imagenetUrl(ARCHITECTURES.efficientnet_b0!), "https://storage.googleapis.com/keras-applications/efficientnetb0_notop.h5");
});
