import type { LayerJson, ModelTopology } from "../topology";
import { batchNorm, conv, functional, input, layer, maxPool, relu, zeroPad } from "./layers";

/** Conv blocks per dense block (conv2 … conv5) of Keras' DenseNets. */
const BLOCKS: Record<"densenet121" | "densenet169" | "densenet201", number[]> = {
  densenet121: [6, 12, 24, 16],
  densenet169: [6, 12, 32, 32],
  densenet201: [6, 12, 48, 32],
};

const bn = (name: string, from: string): LayerJson => batchNorm(name, 1.001e-5, from);

/**
 * keras.applications.DenseNet121/169/201(include_top=False) with Keras' layer names (conv1/conv,
 * conv2_block1_0_bn, pool2_conv, …, relu). The two unnamed paddings get the names a fresh Keras
 * session gives them.
 */
export function densenetTopology(arch: keyof typeof BLOCKS, size = 224): ModelTopology {
  const layers: LayerJson[] = [input("input_1", size)];
  const push = (l: LayerJson): string => (layers.push(l), l.name);
  let x = push(zeroPad("zero_padding2d", [[3, 3], [3, 3]], "input_1"));
  x = push(conv("conv1/conv", 64, { kernel: 7, strides: 2, bias: false }, x));
  x = push(bn("conv1/bn", x));
  x = push(relu("conv1/relu", x));
  x = push(zeroPad("zero_padding2d_1", [[1, 1], [1, 1]], x));
  x = push(maxPool("pool1", 3, 2, "valid", x));
  let channels = 64;
  BLOCKS[arch].forEach((blocks, s) => {
    for (let b = 1; b <= blocks; b++) {
      const n = `conv${s + 2}_block${b}`;
      let y = push(bn(`${n}_0_bn`, x));
      y = push(relu(`${n}_0_relu`, y));
      y = push(conv(`${n}_1_conv`, 128, { kernel: 1, bias: false }, y));
      y = push(bn(`${n}_1_bn`, y));
      y = push(relu(`${n}_1_relu`, y));
      y = push(conv(`${n}_2_conv`, 32, { kernel: 3, padding: "same", bias: false }, y));
      x = push(layer("Concatenate", `${n}_concat`, { axis: -1 }, [x, y]));
      channels += 32;
    }
    if (s === 3) return;
    const p = `pool${s + 2}`;
    x = push(bn(`${p}_bn`, x));
    x = push(relu(`${p}_relu`, x));
    channels = Math.trunc(channels * 0.5);
    x = push(conv(`${p}_conv`, channels, { kernel: 1, bias: false }, x));
    x = push(layer("AveragePooling2D", `${p}_pool`, { pool_size: [2, 2], strides: [2, 2], padding: "valid", data_format: "channels_last" }, [x]));
  });
  x = push(bn("bn", x));
  push(relu("relu", x));
  return functional(arch, layers);
}
