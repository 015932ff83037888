import type { LayerJson, ModelTopology } from "../topology";
import { autoNames, avgPool, batchNorm, concat, conv, functional, input, layer, maxPool, relu } from "./layers";

type Push = (l: LayerJson) => string;
type Kernel = number | readonly [number, number];

/** The three Inception-ResNet block types: their branches ([filters, kernel] chains), scale, repeats and width. */
const BLOCKS = {
  block35: { branches: [[[32, 1]], [[32, 1], [32, 3]], [[32, 1], [48, 3], [64, 3]]], scale: 0.17, repeats: 10, channels: 320 },
  block17: { branches: [[[192, 1]], [[128, 1], [160, [1, 7]], [192, [7, 1]]]], scale: 0.1, repeats: 20, channels: 1088 },
  block8: { branches: [[[192, 1]], [[192, 1], [224, [1, 3]], [256, [3, 1]]]], scale: 0.2, repeats: 10, channels: 2080 },
} as const satisfies Record<string, { branches: ReadonlyArray<ReadonlyArray<readonly [number, Kernel]>>; scale: number; repeats: number; channels: number }>;

/**
 * keras.applications.InceptionResNetV2(include_top=False) with Keras' layer names: named blocks
 * (mixed_5b, block35_1_mixed, block35_1_conv, …, conv_7b_ac) and a fresh session's names for the
 * unnamed conv2d_bn layers and CustomScaleLayers (tfjs has no CustomScaleLayer: see custom-layers.ts).
 */
export function inceptionResNetV2Topology(size = 299): ModelTopology {
  const layers: LayerJson[] = [input("input_1", size)];
  const push: Push = (l) => (layers.push(l), l.name);
  const auto = autoNames();
  /** Keras' `conv2d_bn` here: an unbiased conv, a BatchNorm without scale, a ReLU (named when `name` is). */
  const cb = (from: string, filters: number, kernel: Kernel, strides = 1, padding: "same" | "valid" = "same", name?: string): string => {
    const k: [number, number] = typeof kernel === "number" ? [kernel, kernel] : [kernel[0], kernel[1]];
    const c = push(conv(name ?? auto("conv2d"), filters, { kernel: k, strides, padding, bias: false }, from));
    const b = push(batchNorm(name ? `${name}_bn` : auto("batch_normalization"), 1e-3, c, 0.99, false));
    return push(relu(name ? `${name}_ac` : auto("activation"), b));
  };
  const maxp = (from: string): string => push(maxPool(auto("max_pooling2d"), 3, 2, "valid", from));
  let x = cb("input_1", 32, 3, 2, "valid");
  x = cb(x, 32, 3, 1, "valid");
  x = cb(x, 64, 3);
  x = maxp(x);
  x = cb(x, 80, 1, 1, "valid");
  x = cb(x, 192, 3, 1, "valid");
  x = maxp(x);
  {
    const b0 = cb(x, 96, 1);
    const b1 = cb(cb(x, 48, 1), 64, 5);
    const b2 = cb(cb(cb(x, 64, 1), 96, 3), 96, 3);
    const bp = cb(push(avgPool(auto("average_pooling2d"), 3, 1, "same", x)), 64, 1);
    x = push(concat("mixed_5b", [b0, b1, b2, bp]));
  }
  const blocks = (type: keyof typeof BLOCKS): void => {
    const { branches, scale, repeats, channels } = BLOCKS[type];
    for (let i = 1; i <= repeats; i++) {
      const name = `${type}_${i}`;
      const outs = branches.map((chain) => chain.reduce<string>((y, [filters, kernel]) => cb(y, filters, kernel), x));
      const mixed = push(concat(`${name}_mixed`, outs));
      const up = push(conv(`${name}_conv`, channels, { kernel: 1, padding: "same" }, mixed));
      const last = type === "block8" && i === repeats; // Keras' block8_10: scale 1, no activation
      x = push(layer("CustomScaleLayer", auto("custom_scale_layer"), { scale: last ? 1.0 : scale }, [x, up]));
      if (!last) x = push(relu(`${name}_ac`, x));
    }
  };
  blocks("block35");
  {
    const b0 = cb(x, 384, 3, 2, "valid");
    const b1 = cb(cb(cb(x, 256, 1), 256, 3), 384, 3, 2, "valid");
    x = push(concat("mixed_6a", [b0, b1, maxp(x)]));
  }
  blocks("block17");
  {
    const b0 = cb(cb(x, 256, 1), 384, 3, 2, "valid");
    const b1 = cb(cb(x, 256, 1), 288, 3, 2, "valid");
    const b2 = cb(cb(cb(x, 256, 1), 288, 3), 320, 3, 2, "valid");
    x = push(concat("mixed_7a", [b0, b1, b2, maxp(x)]));
  }
  blocks("block8");
  cb(x, 1536, 1, 1, "same", "conv_7b");
  return functional("inception_resnet_v2", layers);
}
