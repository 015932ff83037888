import type { LayerJson, ModelTopology } from "../topology";
import { autoNames, avgPool, batchNorm, concat, conv, functional, input, maxPool, relu } from "./layers";

type Push = (l: LayerJson) => string;

/** Keras' `conv2d_bn`: an unbiased conv, a BatchNorm without scale, a ReLU, all with Keras' automatic names. */
export function convBn(push: Push, auto: (base: string) => string, from: string, filters: number, kernel: [number, number], strides = 1, padding: "same" | "valid" = "same"): string {
  const c = push(conv(auto("conv2d"), filters, { kernel, strides, padding, bias: false }, from));
  const b = push(batchNorm(auto("batch_normalization"), 1e-3, c, 0.99, false));
  return push(relu(auto("activation"), b));
}

/**
 * keras.applications.InceptionV3(include_top=False): the stem, mixed0 … mixed10, with Keras'
 * layer names (unnamed layers get a fresh session's names: conv2d_93, activation_93, …).
 */
export function inceptionV3Topology(size = 299): ModelTopology {
  const layers: LayerJson[] = [input("input_1", size)];
  const push: Push = (l) => (layers.push(l), l.name);
  const auto = autoNames();
  const cb = (from: string, filters: number, rows: number, cols: number, strides = 1, padding: "same" | "valid" = "same"): string =>
    convBn(push, auto, from, filters, [rows, cols], strides, padding);
  const pool = (from: string): string => push(avgPool(auto("average_pooling2d"), 3, 1, "same", from));
  const maxp = (from: string): string => push(maxPool(auto("max_pooling2d"), 3, 2, "valid", from));
  let x = cb("input_1", 32, 3, 3, 2, "valid");
  x = cb(x, 32, 3, 3, 1, "valid");
  x = cb(x, 64, 3, 3);
  x = maxp(x);
  x = cb(x, 80, 1, 1, 1, "valid");
  x = cb(x, 192, 3, 3, 1, "valid");
  x = maxp(x);
  for (const [i, poolFilters] of [32, 64, 64].entries()) { // mixed 0, 1, 2: 35 x 35
    const b1 = cb(x, 64, 1, 1);
    const b5 = cb(cb(x, 48, 1, 1), 64, 5, 5);
    const b3 = cb(cb(cb(x, 64, 1, 1), 96, 3, 3), 96, 3, 3);
    const bp = cb(pool(x), poolFilters, 1, 1);
    x = push(concat(`mixed${i}`, [b1, b5, b3, bp]));
  }
  { // mixed 3: 17 x 17
    const b3 = cb(x, 384, 3, 3, 2, "valid");
    const bd = cb(cb(cb(x, 64, 1, 1), 96, 3, 3), 96, 3, 3, 2, "valid");
    x = push(concat("mixed3", [b3, bd, maxp(x)]));
  }
  for (const [i, f] of [128, 160, 160, 192].entries()) { // mixed 4 … 7: 17 x 17
    const b1 = cb(x, 192, 1, 1);
    const b7 = cb(cb(cb(x, f, 1, 1), f, 1, 7), 192, 7, 1);
    const bd = cb(cb(cb(cb(cb(x, f, 1, 1), f, 7, 1), f, 1, 7), f, 7, 1), 192, 1, 7);
    const bp = cb(pool(x), 192, 1, 1);
    x = push(concat(`mixed${4 + i}`, [b1, b7, bd, bp]));
  }
  { // mixed 8: 8 x 8
    const b3 = cb(cb(x, 192, 1, 1), 320, 3, 3, 2, "valid");
    const b7 = cb(cb(cb(cb(x, 192, 1, 1), 192, 1, 7), 192, 7, 1), 192, 3, 3, 2, "valid");
    x = push(concat("mixed8", [b3, b7, maxp(x)]));
  }
  for (let i = 0; i < 2; i++) { // mixed 9, 10: 8 x 8
    const b1 = cb(x, 320, 1, 1);
    const b3 = cb(x, 384, 1, 1);
    const b3cat = push(concat(`mixed9_${i}`, [cb(b3, 384, 1, 3), cb(b3, 384, 3, 1)]));
    const bd = cb(cb(x, 448, 1, 1), 384, 3, 3);
    const bdcat = push(concat(auto("concatenate"), [cb(bd, 384, 1, 3), cb(bd, 384, 3, 1)]));
    const bp = cb(pool(x), 192, 1, 1);
    x = push(concat(`mixed${9 + i}`, [b1, b3cat, bdcat, bp]));
  }
  return functional("inception_v3", layers);
}
