import type { LayerJson, ModelTopology } from "../topology";
import { add, autoNames, avgPool, batchNorm, concat, conv, functional, input, layer, maxPool, relu, separable, zeroPad } from "./layers";

/** A tensor of the graph being built: its layer, spatial size (square) and channels. */
interface T {
  name: string;
  size: number;
  channels: number;
}

/** Keras' `imagenet_utils.correct_pad` for a square input of `size`. */
const correctPad = (size: number, kernel: number): [[number, number], [number, number]] => {
  const c = Math.floor(kernel / 2);
  const adjust = 1 - (size % 2);
  return [[c - adjust, c], [c - adjust, c]];
};

/**
 * keras.applications.NASNetMobile(include_top=False): penultimate filters 1056, 4 blocks per
 * stage, stem filters 32, Keras' layer names (stem_conv1, normal_conv_1_0, reduction_concat_reduce_4,
 * …) and a fresh session's names for the unnamed ReLUs, paddings, croppings, concatenations and
 * adds; the last layer is the unnamed final ReLU. Like Keras, the cells' shapes (which adjust path
 * a cell takes, `correct_pad`) follow from `size`.
 */
export function nasnetMobileTopology(size = 224): ModelTopology {
  const layers: LayerJson[] = [input("input_1", size)];
  const auto = autoNames();
  const push = (l: LayerJson, s: number, channels: number): T => (layers.push(l), { name: l.name, size: s, channels });
  const bn = (name: string, x: T): T => push(batchNorm(name, 1e-3, x.name, 0.9997), x.size, x.channels);
  const act = (x: T, name = auto("activation")): T => push(relu(name, x.name), x.size, x.channels);
  const conv1 = (name: string, filters: number, x: T): T => push(conv(name, filters, { kernel: 1, padding: "same", bias: false }, x.name), x.size, filters);
  const avg = (name: string, strides: number, x: T, k = 3, padding: "same" | "valid" = "same"): T =>
    push(avgPool(name, k, strides, padding, x.name), strides === 1 ? x.size : Math.floor((x.size - k) / 2) + 1, x.channels);
  const addT = (name: string, a: T, b: T): T => push(add(name, [a.name, b.name]), a.size, a.channels);

  /** Keras' `_separable_conv_block`: twice relu, separable conv, BN; the first may have stride 2. */
  const sepBlock = (x: T, filters: number, kernel: number, strides: number, id: string): T => {
    let y = act(x);
    if (strides === 2) y = push(zeroPad(`separable_conv_1_pad_${id}`, correctPad(y.size, kernel), y.name), y.size + 2 * Math.floor(kernel / 2) - (1 - (y.size % 2)), y.channels);
    const out = strides === 2 ? Math.floor((y.size - kernel) / 2) + 1 : y.size;
    y = push(separable(`separable_conv_1_${id}`, filters, { kernel, strides, padding: strides === 2 ? "valid" : "same", bias: false }, y.name), out, filters);
    y = act(bn(`separable_conv_1_bn_${id}`, y));
    y = push(separable(`separable_conv_2_${id}`, filters, { kernel, padding: "same", bias: false }, y.name), y.size, filters);
    return bn(`separable_conv_2_bn_${id}`, y);
  };

  /** Keras' `_adjust_block`: bring the previous cell's output `p` to `ip`'s size and `filters` channels. */
  const adjust = (p: T | undefined, ip: T, filters: number, id: string): T => {
    if (!p) return ip;
    if (p.size !== ip.size) {
      const r = act(p, `adjust_relu_1_${id}`);
      const p1 = conv1(`adjust_conv_1_${id}`, Math.floor(filters / 2), avg(`adjust_avg_pool_1_${id}`, 2, r, 1, "valid"));
      let p2 = push(zeroPad(auto("zero_padding2d"), [[0, 1], [0, 1]], r.name), r.size + 1, r.channels);
      p2 = push(layer("Cropping2D", auto("cropping2d"), { cropping: [[1, 0], [1, 0]], data_format: "channels_last" }, [p2.name]), r.size, r.channels);
      p2 = conv1(`adjust_conv_2_${id}`, Math.floor(filters / 2), avg(`adjust_avg_pool_2_${id}`, 2, p2, 1, "valid"));
      const both = push(concat(auto("concatenate"), [p1.name, p2.name]), p1.size, p1.channels + p2.channels);
      return bn(`adjust_bn_${id}`, both);
    }
    if (p.channels !== filters) return bn(`adjust_bn_${id}`, conv1(`adjust_conv_projection_${id}`, filters, act(p)));
    return p;
  };

  const normalCell = (ip: T, prev: T | undefined, filters: number, id: string): [T, T] => {
    const p = adjust(prev, ip, filters, id);
    const h = bn(`normal_bn_1_${id}`, conv1(`normal_conv_1_${id}`, filters, act(ip)));
    const x1 = addT(`normal_add_1_${id}`, sepBlock(h, filters, 5, 1, `normal_left1_${id}`), sepBlock(p, filters, 3, 1, `normal_right1_${id}`));
    const x2 = addT(`normal_add_2_${id}`, sepBlock(p, filters, 5, 1, `normal_left2_${id}`), sepBlock(p, filters, 3, 1, `normal_right2_${id}`));
    const x3 = addT(`normal_add_3_${id}`, avg(`normal_left3_${id}`, 1, h), p);
    const x4 = addT(`normal_add_4_${id}`, avg(`normal_left4_${id}`, 1, p), avg(`normal_right4_${id}`, 1, p));
    const x5 = addT(`normal_add_5_${id}`, sepBlock(h, filters, 3, 1, `normal_left5_${id}`), h);
    const parts = [p, x1, x2, x3, x4, x5];
    return [push(concat(`normal_concat_${id}`, parts.map((t) => t.name)), h.size, parts.reduce((n, t) => n + t.channels, 0)), ip];
  };

  const reductionCell = (ip: T, prev: T | undefined, filters: number, id: string): [T, T] => {
    const p = adjust(prev, ip, filters, id);
    const h = bn(`reduction_bn_1_${id}`, conv1(`reduction_conv_1_${id}`, filters, act(ip)));
    const h3 = push(zeroPad(`reduction_pad_1_${id}`, correctPad(h.size, 3), h.name), h.size + 2 - (1 - (h.size % 2)), h.channels);
    const pool = (name: string, kind: "max" | "avg"): T =>
      push((kind === "max" ? maxPool : avgPool)(name, 3, 2, "valid", h3.name), Math.floor((h3.size - 3) / 2) + 1, h3.channels);
    const x1 = addT(`reduction_add_1_${id}`, sepBlock(h, filters, 5, 2, `reduction_left1_${id}`), sepBlock(p, filters, 7, 2, `reduction_right1_${id}`));
    const x2 = addT(`reduction_add_2_${id}`, pool(`reduction_left2_${id}`, "max"), sepBlock(p, filters, 7, 2, `reduction_right2_${id}`));
    const x3 = addT(`reduction_add3_${id}`, pool(`reduction_left3_${id}`, "avg"), sepBlock(p, filters, 5, 2, `reduction_right3_${id}`));
    const x4 = addT(auto("add"), x2, avg(`reduction_left4_${id}`, 1, x1));
    const x5 = addT(`reduction_add4_${id}`, sepBlock(x1, filters, 3, 1, `reduction_left4_${id}`), pool(`reduction_right5_${id}`, "max"));
    const parts = [x2, x3, x4, x5];
    return [push(concat(`reduction_concat_${id}`, parts.map((t) => t.name)), x1.size, parts.reduce((n, t) => n + t.channels, 0)), ip];
  };

  const filters = 1056 / 24;
  const stem = push(conv("stem_conv1", 32, { kernel: 3, strides: 2, bias: false }, "input_1"), Math.floor((size - 3) / 2) + 1, 32);
  let x = bn("stem_bn1", stem);
  let p: T | undefined;
  [x, p] = reductionCell(x, p, filters / 4, "stem_1");
  [x, p] = reductionCell(x, p, filters / 2, "stem_2");
  // Keras' block ids: normal cells 0-3, reduce_4, normal 5-8, reduce_8, normal 9-12
  const stages: Array<[filters: number, first: number, reduce?: string]> = [[filters, 0, "reduce_4"], [filters * 2, 5, "reduce_8"], [filters * 4, 9]];
  for (const [f, first, reduce] of stages) {
    for (let i = 0; i < 4; i++) [x, p] = normalCell(x, p, f, String(first + i));
    if (reduce) [x, p] = reductionCell(x, p, f * 2, reduce);
  }
  act(x);
  return functional("NASNet", layers);
}
