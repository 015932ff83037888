import { functionalConfig, type LayerJson, type ModelTopology } from "./topology";

/**
 * Output shapes of layers read off a Keras topology's configs alone, so `tlrun plan` can size
 * fine-tune's scratch files without TensorFlow or weights. Covers the layer classes of the zoo,
 * the embedded base and ordinary Keras CNNs, channels last; any other layer makes the answer
 * unknown (undefined) rather than a guess.
 */

type Shape = number[];
type Config = Record<string, unknown>;

const pair = (v: unknown, d: number): [number, number] => (Array.isArray(v) ? [Number(v[0]), Number(v[1] ?? v[0])] : typeof v === "number" ? [v, v] : [d, d]);

/** Keras' output length of a window op along one axis. */
function windowed(n: number, k: number, s: number, d: number, padding: unknown): number {
  return padding === "same" ? Math.ceil(n / s) : Math.floor((n - ((k - 1) * d + 1)) / s) + 1;
}

function spatial(x: Shape, c: Config, kernel: [number, number], strides: [number, number]): [number, number] {
  const dil = pair(c.dilation_rate, 1);
  return [windowed(x[0]!, kernel[0], strides[0], dil[0], c.padding), windowed(x[1]!, kernel[1], strides[1], dil[1], c.padding)];
}

/** Two numbers before and after, from Keras' int, [a, b] or [[top, bottom], [left, right]]. */
function margins(v: unknown): [[number, number], [number, number]] {
  if (typeof v === "number") return [[v, v], [v, v]];
  const [a, b] = v as Array<number | number[]>;
  const side = (s: number | number[] | undefined): [number, number] => (Array.isArray(s) ? [s[0]!, s[1]!] : [Number(s), Number(s)]);
  return [side(a), side(b ?? a)];
}

function broadcast(xs: Shape[]): Shape {
  const n = Math.max(...xs.map((x) => x.length));
  return Array.from({ length: n }, (_, i) => Math.max(...xs.map((x) => x[x.length - n + i] ?? 1)));
}

const IDENTITY = new Set(["BatchNormalization", "ReLU", "Activation", "Dropout", "Rescaling", "Normalization", "CustomScaleLayer", "LeakyReLU", "PReLU", "ELU", "Softmax", "LayerNormalization", "SpatialDropout2D", "GaussianNoise"]);
const ELEMENTWISE = new Set(["Add", "Multiply", "Subtract", "Maximum", "Minimum", "Average"]);

/** One layer's output shape (batch dimension left out) from its inputs', or undefined. */
function layerShape(l: LayerJson, xs: Shape[]): Shape | undefined {
  const c = l.config;
  const x = xs[0];
  if (l.class_name === "InputLayer") {
    const s = (c.batch_input_shape ?? c.batch_shape) as Array<number | null> | undefined;
    return s && s.slice(1).every((d) => typeof d === "number") ? (s.slice(1) as number[]) : undefined;
  }
  if (!x || (c.data_format !== undefined && c.data_format !== "channels_last")) return undefined;
  if (IDENTITY.has(l.class_name)) return x;
  if (ELEMENTWISE.has(l.class_name)) return broadcast(xs);
  switch (l.class_name) {
    case "Conv2D":
    case "SeparableConv2D":
      return [...spatial(x, c, pair(c.kernel_size, 1), pair(c.strides, 1)), Number(c.filters)];
    case "DepthwiseConv2D":
      return [...spatial(x, c, pair(c.kernel_size, 1), pair(c.strides, 1)), x[2]! * Number(c.depth_multiplier ?? 1)];
    case "MaxPooling2D":
    case "AveragePooling2D": {
      const k = pair(c.pool_size, 2);
      return [...spatial(x, { padding: c.padding }, k, c.strides == null ? k : pair(c.strides, 1)), x[2]!];
    }
    case "ZeroPadding2D":
    case "Cropping2D": {
      const [[t, b], [lft, r]] = margins(l.class_name === "ZeroPadding2D" ? c.padding : c.cropping);
      const sign = l.class_name === "ZeroPadding2D" ? 1 : -1;
      return [x[0]! + sign * (t + b), x[1]! + sign * (lft + r), x[2]!];
    }
    case "GlobalAveragePooling2D":
    case "GlobalMaxPooling2D":
      return c.keepdims ? [1, 1, x[2]!] : [x[2]!];
    case "Flatten":
      return [x.reduce((a, b) => a * b, 1)];
    case "Dense":
      return [...x.slice(0, -1), Number(c.units)];
    case "Reshape": {
      const target = (c.target_shape as number[]).slice();
      const known = target.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
      return target.map((d) => (d === -1 ? x.reduce((a, b) => a * b, 1) / known : d));
    }
    case "Concatenate": {
      const axis = Number(c.axis ?? -1);
      const at = axis < 0 ? x.length + axis : axis - 1;
      return x.map((d, i) => (i === at ? xs.reduce((a, s) => a + s[i]!, 0) : d));
    }
    default:
      return undefined;
  }
}

/**
 * The output shapes of the layers `names` in `t` (without the batch dimension), following each
 * one's first inbound node; undefined when one of them depends on a layer this cannot size.
 */
export function outputShapes(t: ModelTopology, names: string[]): Shape[] | undefined {
  const layers = new Map(functionalConfig(t).layers.map((l) => [l.name, l]));
  const known = new Map<string, Shape | undefined>();
  const shapeOf = (name: string): Shape | undefined => {
    if (known.has(name)) return known.get(name);
    known.set(name, undefined); // a cycle reads as unknown
    const l = layers.get(name);
    const ins = (l?.inbound_nodes[0] ?? []).map((ref) => shapeOf(ref[0]));
    const out = l && ins.every((s) => s !== undefined) ? layerShape(l, ins as Shape[]) : undefined;
    const sane = out && out.every((d) => Number.isInteger(d) && d > 0) ? out : undefined;
    known.set(name, sane);
    return sane;
  };
  const shapes = names.map(shapeOf);
  return shapes.every((s) => s !== undefined) ? (shapes as Shape[]) : undefined;
}
