import type { FunctionalConfig, LayerJson, ModelTopology } from "../topology";

/**
 * Builders of Keras layer JSON for the zoo's topology generators. Each takes the layer's name,
 * its config and its inputs, and returns the layer as Keras serialises it, so Keras weights map by
 * name and tfjs deserialises it.
 */
export function layer(class_name: string, name: string, config: Record<string, unknown>, from: string[]): LayerJson {
  return { class_name, name, config: { name, trainable: true, ...config }, inbound_nodes: from.length ? [from.map((f) => [f, 0, 0, {}])] : [] };
}

export const input = (name: string, size: number): LayerJson =>
  ({ class_name: "InputLayer", name, config: { batch_input_shape: [null, size, size, 3], dtype: "float32", sparse: false, name }, inbound_nodes: [] });

export interface ConvOptions {
  /** Square size, or [rows, cols]. */
  kernel: number | [number, number];
  strides?: number;
  padding?: "same" | "valid";
  bias?: boolean;
  activation?: string;
}

const kernelSize = (o: ConvOptions): [number, number] => (typeof o.kernel === "number" ? [o.kernel, o.kernel] : o.kernel);

export const conv = (name: string, filters: number, o: ConvOptions, from: string): LayerJson =>
  layer("Conv2D", name, {
    filters, kernel_size: kernelSize(o), strides: [o.strides ?? 1, o.strides ?? 1], padding: o.padding ?? "valid",
    data_format: "channels_last", dilation_rate: [1, 1], activation: o.activation ?? "linear", use_bias: o.bias ?? true,
  }, [from]);

export const depthwise = (name: string, o: ConvOptions, from: string): LayerJson =>
  layer("DepthwiseConv2D", name, {
    kernel_size: kernelSize(o), strides: [o.strides ?? 1, o.strides ?? 1], padding: o.padding ?? "valid", depth_multiplier: 1,
    data_format: "channels_last", dilation_rate: [1, 1], activation: o.activation ?? "linear", use_bias: o.bias ?? true,
  }, [from]);

export const separable = (name: string, filters: number, o: ConvOptions, from: string): LayerJson =>
  layer("SeparableConv2D", name, {
    filters, kernel_size: kernelSize(o), strides: [o.strides ?? 1, o.strides ?? 1], padding: o.padding ?? "valid", depth_multiplier: 1,
    data_format: "channels_last", dilation_rate: [1, 1], activation: o.activation ?? "linear", use_bias: o.bias ?? true,
  }, [from]);

export const batchNorm = (name: string, epsilon: number, from: string, momentum = 0.99, scale = true): LayerJson =>
  layer("BatchNormalization", name, { axis: -1, momentum, epsilon, center: true, scale }, [from]);

/** Keras' names for unnamed layers in a fresh session: conv2d, conv2d_1, … per class. */
export function autoNames(): (base: string) => string {
  const seen = new Map<string, number>();
  return (base) => {
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    return n ? `${base}_${n}` : base;
  };
}

export const relu = (name: string, from: string, maxValue?: number): LayerJson =>
  maxValue === undefined ? layer("Activation", name, { activation: "relu" }, [from]) : layer("ReLU", name, { max_value: maxValue, negative_slope: 0, threshold: 0 }, [from]);

export const zeroPad = (name: string, padding: [[number, number], [number, number]], from: string): LayerJson =>
  layer("ZeroPadding2D", name, { padding, data_format: "channels_last" }, [from]);

export const add = (name: string, from: string[]): LayerJson => layer("Add", name, {}, from);

export const activation = (name: string, fn: string, from: string): LayerJson => layer("Activation", name, { activation: fn }, [from]);

export const concat = (name: string, from: string[]): LayerJson => layer("Concatenate", name, { axis: -1 }, from);

export const avgPool = (name: string, size: number, strides: number, padding: "same" | "valid", from: string): LayerJson =>
  layer("AveragePooling2D", name, { pool_size: [size, size], strides: [strides, strides], padding, data_format: "channels_last" }, [from]);

export const maxPool = (name: string, size: number, strides: number, padding: "same" | "valid", from: string): LayerJson =>
  layer("MaxPooling2D", name, { pool_size: [size, size], strides: [strides, strides], padding, data_format: "channels_last" }, [from]);

/**
 * A functional model's layers in Keras' order (`Functional._map_graph_network`): by depth from the
 * output, deepest first, and within a depth by first visit of a depth-first walk from the output.
 * Freeze indices and the parity test's name-by-name comparison rely on it.
 */
export function kerasOrder(layers: LayerJson[], output: string): LayerJson[] {
  const byName = new Map(layers.map((l) => [l.name, l]));
  const parents = (n: string): string[] => (byName.get(n)?.inbound_nodes[0] ?? []).map((ref) => ref[0]);
  const visited = new Map<string, number>();
  const finished: string[] = [];
  const walk = (n: string): void => {
    if (visited.has(n)) return;
    visited.set(n, visited.size);
    for (const p of parents(n)) walk(p);
    finished.push(n);
  };
  walk(output);
  const depth = new Map<string, number>();
  for (const n of [...finished].reverse())
    for (const p of parents(n)) depth.set(p, Math.max(depth.get(p) ?? 0, (depth.get(n) ?? 0) + 1));
  const d = (n: string): number => depth.get(n) ?? 0;
  return finished.sort((a, b) => d(b) - d(a) || visited.get(a)! - visited.get(b)!).map((n) => byName.get(n)!);
}

/** A functional model from its layers (in creation order: they are put in Keras' order), with one input and one output. */
export function functional(name: string, created: LayerJson[]): ModelTopology {
  const layers = kerasOrder(created, created[created.length - 1]!.name);
  const config: FunctionalConfig = {
    name, layers,
    input_layers: [[layers[0]!.name, 0, 0]],
    output_layers: [[layers[layers.length - 1]!.name, 0, 0]],
  };
  return { class_name: "Functional", config, keras_version: "2.15.0", backend: "tensorflow" };
}
