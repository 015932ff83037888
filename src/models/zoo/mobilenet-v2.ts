import type { LayerJson, ModelTopology } from "../topology";
import { add, batchNorm, conv, depthwise, functional, input, relu, zeroPad } from "./layers";

/** (expansion, output filters, stride) of Keras' 17 inverted residual blocks, block_0 … block_16. */
const BLOCKS: Array<[number, number, number]> = [
  [1, 16, 1], [6, 24, 2], [6, 24, 1], [6, 32, 2], [6, 32, 1], [6, 32, 1], [6, 64, 2], [6, 64, 1], [6, 64, 1],
  [6, 64, 1], [6, 96, 1], [6, 96, 1], [6, 96, 1], [6, 160, 2], [6, 160, 1], [6, 160, 1], [6, 320, 1],
];

/** Keras' `_make_divisible`: round to a multiple of 8, never below 90% of the value. */
function makeDivisible(v: number, divisor = 8): number {
  const out = Math.max(divisor, Math.floor(v + divisor / 2) - (Math.floor(v + divisor / 2) % divisor));
  return out < 0.9 * v ? out + divisor : out;
}

const bn = (name: string, from: string): LayerJson => batchNorm(name, 1e-3, from, 0.999);

/**
 * keras.applications.MobileNetV2(include_top=False) with Keras' layer names (Conv1, block_1_expand,
 * …, out_relu). The stride-2 padding is Keras' `correct_pad` for even sizes, ((0, 1), (0, 1)):
 * exact for inputs that are multiples of 32, as 224, 160, 128 and 96 are.
 */
export function mobilenetV2Topology(alpha = 1.0, size = 224): ModelTopology {
  const layers: LayerJson[] = [input("input_1", size)];
  const push = (l: LayerJson): string => (layers.push(l), l.name);
  let x = push(conv("Conv1", makeDivisible(32 * alpha), { kernel: 3, strides: 2, padding: "same", bias: false }, "input_1"));
  x = push(bn("bn_Conv1", x));
  x = push(relu("Conv1_relu", x, 6));
  let channels = makeDivisible(32 * alpha);
  BLOCKS.forEach(([expansion, filters, stride], id) => {
    const blockIn = x;
    const out = makeDivisible(Math.trunc(filters * alpha));
    const p = id ? `block_${id}_` : "expanded_conv_";
    if (id) {
      x = push(conv(`${p}expand`, expansion * channels, { kernel: 1, padding: "same", bias: false }, x));
      x = push(bn(`${p}expand_BN`, x));
      x = push(relu(`${p}expand_relu`, x, 6));
    }
    if (stride === 2) x = push(zeroPad(`${p}pad`, [[0, 1], [0, 1]], x));
    x = push(depthwise(`${p}depthwise`, { kernel: 3, strides: stride, padding: stride === 1 ? "same" : "valid", bias: false }, x));
    x = push(bn(`${p}depthwise_BN`, x));
    x = push(relu(`${p}depthwise_relu`, x, 6));
    x = push(conv(`${p}project`, out, { kernel: 1, padding: "same", bias: false }, x));
    x = push(bn(`${p}project_BN`, x));
    if (channels === out && stride === 1) x = push(add(`${p}add`, [blockIn, x]));
    channels = out;
  });
  x = push(conv("Conv_1", alpha > 1 ? makeDivisible(1280 * alpha) : 1280, { kernel: 1, bias: false }, x));
  x = push(bn("Conv_1_bn", x));
  push(relu("out_relu", x, 6));
  return functional(`mobilenetv2_${alpha.toFixed(2)}_${size}`, layers);
}
