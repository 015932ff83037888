import type { LayerJson, ModelTopology } from "../topology";
import { activation, add, batchNorm, conv, depthwise, functional, input, layer, zeroPad } from "./layers";

/** Width and depth coefficients and default input size of EfficientNetB0 … B3. */
const VARIANTS = {
  efficientnet_b0: { width: 1.0, depth: 1.0, size: 224 },
  efficientnet_b1: { width: 1.0, depth: 1.1, size: 240 },
  efficientnet_b2: { width: 1.1, depth: 1.2, size: 260 },
  efficientnet_b3: { width: 1.2, depth: 1.4, size: 300 },
} as const;

/** Keras' DEFAULT_BLOCKS_ARGS: kernel, repeats, filters in, filters out, expansion, stride (SE ratio 0.25 throughout). */
const BLOCKS: Array<[number, number, number, number, number, number]> = [
  [3, 1, 32, 16, 1, 1], [3, 2, 16, 24, 6, 2], [5, 2, 24, 40, 6, 2], [3, 3, 40, 80, 6, 2],
  [5, 3, 80, 112, 6, 1], [5, 4, 112, 192, 6, 2], [3, 1, 192, 320, 6, 1],
];

/** ImageNet's per-channel standard deviation; Keras rescales by 1/sqrt(std) after Normalization (its variance is std²). */
const IMAGENET_STDDEV_RGB = [0.229, 0.224, 0.225];
const DROP_CONNECT = 0.2;

/** Keras' `imagenet_utils.correct_pad` for a square input of `size`. */
function correctPad(size: number, kernel: number): [[number, number], [number, number]] {
  const c = Math.floor(kernel / 2);
  const adjust = 1 - (size % 2);
  return [[c - adjust, c], [c - adjust, c]];
}

/** The size after `correct_pad` and a stride-2 valid convolution. */
function strided(size: number, kernel: number): number {
  const [[before, after]] = correctPad(size, kernel);
  return Math.floor((size + before + after - kernel) / 2) + 1;
}

const bn = (name: string, from: string): LayerJson => batchNorm(name, 1e-3, from);

/**
 * keras.applications.EfficientNetB0 … B3(include_top=False) as built with weights="imagenet":
 * Rescaling(1/255), Normalization (ImageNet mean and variance, from the weights file) and a second
 * Rescaling, so raw 0..255 pixels go in. Keras' `correct_pad` depends on the size each stride-2
 * block sees: the topology is exact for `size` and any size with the same even/odd pattern at the
 * five stride-2 stages (for B0, every multiple of 32).
 */
export function efficientnetTopology(arch: keyof typeof VARIANTS, size: number = VARIANTS[arch].size): ModelTopology {
  const { width, depth } = VARIANTS[arch];
  const roundFilters = (f: number): number => {
    const scaled = f * width;
    const n = Math.max(8, Math.trunc((Math.trunc(scaled + 4) / 8)) * 8);
    return n < 0.9 * scaled ? n + 8 : n;
  };
  const roundRepeats = (r: number): number => Math.ceil(depth * r);
  const layers: LayerJson[] = [input("input_1", size)];
  const push = (l: LayerJson): string => (layers.push(l), l.name);
  let x = push(layer("Rescaling", "rescaling", { scale: 1 / 255, offset: 0 }, ["input_1"]));
  x = push(layer("Normalization", "normalization", { axis: [3], invert: false, mean: null, variance: null }, [x]));
  x = push(layer("Rescaling", "rescaling_1", { scale: IMAGENET_STDDEV_RGB.map((s) => 1 / Math.sqrt(s)), offset: 0 }, [x]));
  x = push(zeroPad("stem_conv_pad", correctPad(size, 3), x));
  let spatial = strided(size, 3);
  x = push(conv("stem_conv", roundFilters(32), { kernel: 3, strides: 2, bias: false }, x));
  x = push(bn("stem_bn", x));
  x = push(activation("stem_activation", "swish", x));
  const total = BLOCKS.reduce((n, b) => n + roundRepeats(b[1]), 0);
  let b = 0;
  BLOCKS.forEach(([kernel, repeats, fin, fout, expand, stride], i) => {
    for (let j = 0; j < roundRepeats(repeats); j++) {
      const filtersIn = j ? roundFilters(fout) : roundFilters(fin);
      const strides = j ? 1 : stride;
      const name = `block${i + 1}${String.fromCharCode(97 + j)}_`;
      const blockIn = x;
      const filters = filtersIn * expand;
      if (expand !== 1) {
        x = push(conv(`${name}expand_conv`, filters, { kernel: 1, padding: "same", bias: false }, x));
        x = push(bn(`${name}expand_bn`, x));
        x = push(activation(`${name}expand_activation`, "swish", x));
      }
      if (strides === 2) {
        x = push(zeroPad(`${name}dwconv_pad`, correctPad(spatial, kernel), x));
        spatial = strided(spatial, kernel);
      }
      x = push(depthwise(`${name}dwconv`, { kernel, strides, padding: strides === 2 ? "valid" : "same", bias: false }, x));
      x = push(bn(`${name}bn`, x));
      x = push(activation(`${name}activation`, "swish", x));
      const se = push(layer("GlobalAveragePooling2D", `${name}se_squeeze`, { data_format: "channels_last" }, [x]));
      const seShape = push(layer("Reshape", `${name}se_reshape`, { target_shape: [1, 1, filters] }, [se]));
      const reduce = push(conv(`${name}se_reduce`, Math.max(1, Math.trunc(filtersIn * 0.25)), { kernel: 1, padding: "same", activation: "swish" }, seShape));
      const expanded = push(conv(`${name}se_expand`, filters, { kernel: 1, padding: "same", activation: "sigmoid" }, reduce));
      x = push(layer("Multiply", `${name}se_excite`, {}, [x, expanded]));
      const out = roundFilters(fout);
      x = push(conv(`${name}project_conv`, out, { kernel: 1, padding: "same", bias: false }, x));
      x = push(bn(`${name}project_bn`, x));
      if (strides === 1 && filtersIn === out) {
        const rate = (DROP_CONNECT * b) / total;
        if (rate > 0) x = push(layer("Dropout", `${name}drop`, { rate, noise_shape: [null, 1, 1, 1], seed: null }, [x]));
        x = push(add(`${name}add`, [x, blockIn]));
      }
      b++;
    }
  });
  x = push(conv("top_conv", roundFilters(1280), { kernel: 1, padding: "same", bias: false }, x));
  x = push(bn("top_bn", x));
  push(activation("top_activation", "swish", x));
  return functional(arch.replace("_", ""), layers);
}
