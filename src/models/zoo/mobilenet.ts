import type { LayerJson, ModelTopology } from "../topology";
import { batchNorm, conv, depthwise, functional, input, relu, zeroPad } from "./layers";

/** (pointwise filters, stride) of Keras' 13 depthwise-separable blocks, conv_dw_1 … conv_pw_13. */
const BLOCKS: Array<[number, number]> = [
  [64, 1], [128, 2], [128, 1], [256, 2], [256, 1], [512, 2], [512, 1], [512, 1], [512, 1], [512, 1], [512, 1], [1024, 2], [1024, 1],
];

const bn = (name: string, from: string): LayerJson => batchNorm(name, 1e-3, from);

/**
 * keras.applications.MobileNet(alpha=1.0, include_top=False) with Keras' layer names (conv1,
 * conv_dw_1, conv_pw_1, …, conv_pw_13_relu). Its stride-2 padding is a fixed ((0, 1), (0, 1)), as in Keras.
 */
export function mobilenetTopology(alpha = 1.0, size = 224): ModelTopology {
  const layers: LayerJson[] = [input("input_1", size)];
  const push = (l: LayerJson): string => (layers.push(l), l.name);
  let x = push(conv("conv1", Math.trunc(32 * alpha), { kernel: 3, strides: 2, padding: "same", bias: false }, "input_1"));
  x = push(bn("conv1_bn", x));
  x = push(relu("conv1_relu", x, 6));
  BLOCKS.forEach(([filters, stride], i) => {
    const id = i + 1;
    if (stride === 2) x = push(zeroPad(`conv_pad_${id}`, [[0, 1], [0, 1]], x));
    x = push(depthwise(`conv_dw_${id}`, { kernel: 3, strides: stride, padding: stride === 1 ? "same" : "valid", bias: false }, x));
    x = push(bn(`conv_dw_${id}_bn`, x));
    x = push(relu(`conv_dw_${id}_relu`, x, 6));
    x = push(conv(`conv_pw_${id}`, Math.trunc(filters * alpha), { kernel: 1, padding: "same", bias: false }, x));
    x = push(bn(`conv_pw_${id}_bn`, x));
    x = push(relu(`conv_pw_${id}_relu`, x, 6));
  });
  return functional(`mobilenet_${alpha.toFixed(2)}_${size}`, layers);
}
