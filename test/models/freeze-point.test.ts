import { test } from "node:test";
import assert from "node:assert/strict";
import { asFraction, layerBlocks, layerRefNames, resolveLayerRef } from "../../src/models/freeze-point";
import { baseLayers } from "../../src/models/layers";
import { ARCHITECTURES } from "../../src/models/zoo";

/** Layer names of an architecture's cut base, as the config checks and stages see them. */
function names(arch: string): string[] {
  const a = ARCHITECTURES[arch]!;
  return baseLayers({ topology: a.topology(), defaultCut: a.defaultCut }, "").map((l) => l.name);
}

test("a Keras block name resolves to the block's first layer", () => {
  const vgg = names("vgg16");
  assert.equal(vgg[resolveLayerRef(vgg, "block5")!], "block5_conv1");
  const resnet = names("resnet50");
  assert.equal(resnet[resolveLayerRef(resnet, "conv5_block3")!], "conv5_block3_1_conv");
  assert.equal(resnet[resolveLayerRef(resnet, "conv5")!], "conv5_block1_1_conv");
  assert.equal(resnet[resolveLayerRef(resnet, "conv4_block1_0_conv")!], "conv4_block1_0_conv");
  const mobilenet = names("mobilenet_v2");
  assert.equal(mobilenet[resolveLayerRef(mobilenet, "block_13")!], "block_13_expand");
  assert.equal(mobilenet[resolveLayerRef(mobilenet, "block_1")!], "block_1_expand"); // not block_13 or block_16
  assert.equal(resolveLayerRef(mobilenet, "block_17"), undefined);
});

test("a fraction of the depth, an index, and what is not a reference", () => {
  const vgg = names("vgg16"); // 19 layers: input, 13 convolutions, 5 poolings
  assert.equal(vgg.length, 19);
  assert.equal(vgg[resolveLayerRef(vgg, 0.75)!], "block4_pool"); // floor(0.75 * 19) = 14: block 5 trains
  assert.equal(resolveLayerRef(vgg, "0.75"), 14);
  assert.equal(resolveLayerRef(vgg, ".5"), 9);
  assert.equal(resolveLayerRef(vgg, 15), 15);
  assert.equal(resolveLayerRef(vgg, "15"), 15);
  for (const bad of [19, -1, "1.5", "stem", "top", "block5_conv", ""]) assert.equal(resolveLayerRef(vgg, bad), undefined, String(bad));
  assert.equal(asFraction(1), undefined);
  assert.equal(asFraction(0), undefined);
  assert.equal(asFraction("0.25"), 0.25);
});

test("blocks follow Keras' names: stem before the first block, top after the last", () => {
  const mobilenet = names("mobilenet_v2");
  const blocks = layerBlocks(mobilenet);
  assert.equal(blocks[0], "stem");
  assert.equal(blocks[mobilenet.indexOf("expanded_conv_project")], "block_0");
  assert.equal(blocks[mobilenet.indexOf("out_relu")], "top");
  assert.ok(layerRefNames(mobilenet).includes("block_16"));
  assert.ok(!layerRefNames(mobilenet).includes("top"));
});
