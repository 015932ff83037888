import type { LayerJson, ModelTopology } from "../topology";
import { add, batchNorm, conv, functional, input, maxPool, relu, zeroPad } from "./layers";

/** Blocks per stage (conv2 … conv5) of Keras' ResNet v1 models. */
const STAGES: Record<"resnet50" | "resnet101" | "resnet152", number[]> = {
  resnet50: [3, 4, 6, 3],
  resnet101: [3, 4, 23, 3],
  resnet152: [3, 8, 36, 3],
};

const bn = (name: string, from: string): LayerJson => batchNorm(name, 1.001e-5, from);

/**
 * Keras' `block1`: a bottleneck residual block; the first of a stage has a 1x1 conv shortcut.
 * Layers are listed in Keras' order (by depth: the shortcut's conv and BN sit beside _3_conv and _3_bn).
 */
function block(push: (l: LayerJson) => string, x: string, filters: number, stride: number, shortcutConv: boolean, name: string): string {
  const c1 = conv(`${name}_1_conv`, filters, { kernel: 1, strides: stride }, x);
  push(c1);
  push(bn(`${name}_1_bn`, c1.name));
  push(relu(`${name}_1_relu`, `${name}_1_bn`));
  push(conv(`${name}_2_conv`, filters, { kernel: 3, padding: "same" }, `${name}_1_relu`));
  push(bn(`${name}_2_bn`, `${name}_2_conv`));
  push(relu(`${name}_2_relu`, `${name}_2_bn`));
  const shortcut = shortcutConv ? `${name}_0_bn` : x;
  if (shortcutConv) push(conv(`${name}_0_conv`, 4 * filters, { kernel: 1, strides: stride }, x));
  push(conv(`${name}_3_conv`, 4 * filters, { kernel: 1 }, `${name}_2_relu`));
  if (shortcutConv) push(bn(`${name}_0_bn`, `${name}_0_conv`));
  push(bn(`${name}_3_bn`, `${name}_3_conv`));
  push(add(`${name}_add`, [shortcut, `${name}_3_bn`]));
  return push(relu(`${name}_out`, `${name}_add`));
}

/**
 * keras.applications.ResNet50/101/152(include_top=False) with Keras' layer names (conv1_conv,
 * conv2_block1_0_conv, …, conv5_block3_out) in Keras' layer order.
 */
export function resnetTopology(arch: keyof typeof STAGES, size = 224): ModelTopology {
  const layers: LayerJson[] = [input("input_1", size)];
  const push = (l: LayerJson): string => (layers.push(l), l.name);
  let x = push(zeroPad("conv1_pad", [[3, 3], [3, 3]], "input_1"));
  x = push(conv("conv1_conv", 64, { kernel: 7, strides: 2 }, x));
  x = push(bn("conv1_bn", x));
  x = push(relu("conv1_relu", x));
  x = push(zeroPad("pool1_pad", [[1, 1], [1, 1]], x));
  x = push(maxPool("pool1_pool", 3, 2, "valid", x));
  STAGES[arch].forEach((blocks, s) => {
    const filters = 64 * 2 ** s;
    for (let b = 1; b <= blocks; b++) x = block(push, x, filters, b === 1 && s > 0 ? 2 : 1, b === 1, `conv${s + 2}_block${b}`);
  });
  return functional(arch, layers);
}
