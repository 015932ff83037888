import type { LayerJson, ModelTopology } from "../topology";
import { add, autoNames, batchNorm, conv, functional, input, maxPool, relu, zeroPad } from "./layers";

/** Blocks per stage (conv2 … conv5) of Keras' ResNet v2 models. */
const STAGES: Record<"resnet50_v2" | "resnet101_v2" | "resnet152_v2", number[]> = {
  resnet50_v2: [3, 4, 6, 3],
  resnet101_v2: [3, 4, 23, 3],
  resnet152_v2: [3, 8, 36, 3],
};

const bn = (name: string, from: string): LayerJson => batchNorm(name, 1.001e-5, from);

type Push = (l: LayerJson) => string;

/** Keras' `block2`: a pre-activation bottleneck; a stride-2 block's identity shortcut is a 1x1 max pool. */
function block(push: Push, auto: (base: string) => string, x: string, filters: number, stride: number, shortcutConv: boolean, name: string): string {
  const preact = push(relu(`${name}_preact_relu`, push(bn(`${name}_preact_bn`, x))));
  const shortcut = shortcutConv
    ? push(conv(`${name}_0_conv`, 4 * filters, { kernel: 1, strides: stride }, preact))
    : stride > 1 ? push(maxPool(auto("max_pooling2d"), 1, stride, "valid", x)) : x;
  let y = push(conv(`${name}_1_conv`, filters, { kernel: 1, bias: false }, preact));
  y = push(relu(`${name}_1_relu`, push(bn(`${name}_1_bn`, y))));
  y = push(zeroPad(`${name}_2_pad`, [[1, 1], [1, 1]], y));
  y = push(conv(`${name}_2_conv`, filters, { kernel: 3, strides: stride, bias: false }, y));
  y = push(relu(`${name}_2_relu`, push(bn(`${name}_2_bn`, y))));
  y = push(conv(`${name}_3_conv`, 4 * filters, { kernel: 1 }, y));
  return push(add(`${name}_out`, [shortcut, y]));
}

/**
 * keras.applications.ResNet50V2/101V2/152V2(include_top=False) with Keras' layer names
 * (conv1_conv, conv2_block1_preact_bn, …, post_relu). As in Keras, a stage's stride is on its
 * last block, and conv5 has none.
 */
export function resnetV2Topology(arch: keyof typeof STAGES, size = 224): ModelTopology {
  const layers: LayerJson[] = [input("input_1", size)];
  const push: Push = (l) => (layers.push(l), l.name);
  const auto = autoNames();
  let x = push(zeroPad("conv1_pad", [[3, 3], [3, 3]], "input_1"));
  x = push(conv("conv1_conv", 64, { kernel: 7, strides: 2 }, x));
  x = push(zeroPad("pool1_pad", [[1, 1], [1, 1]], x));
  x = push(maxPool("pool1_pool", 3, 2, "valid", x));
  STAGES[arch].forEach((blocks, s) => {
    for (let b = 1; b <= blocks; b++) {
      const stride = b === blocks && s < 3 ? 2 : 1;
      x = block(push, auto, x, 64 * 2 ** s, stride, b === 1, `conv${s + 2}_block${b}`);
    }
  });
  x = push(bn("post_bn", x));
  push(relu("post_relu", x));
  return functional(arch.replace("_", ""), layers);
}
