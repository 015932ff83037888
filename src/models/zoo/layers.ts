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
  kernel: number;
  strides?: number;
  padding?: "same" | "valid";
  bias?: boolean;
  activation?: string;
}

export const conv = (name: string, filters: number, o: ConvOptions, from: string): LayerJson =>
  layer("Conv2D", name, {
    filters, kernel_size: [o.kernel, o.kernel], strides: [o.strides ?? 1, o.strides ?? 1], padding: o.padding ?? "valid",
    data_format: "channels_last", dilation_rate: [1, 1], activation: o.activation ?? "linear", use_bias: o.bias ?? true,
  }, [from]);

export const depthwise = (name: string, o: ConvOptions, from: string): LayerJson =>
  layer("DepthwiseConv2D", name, {
    kernel_size: [o.kernel, o.kernel], strides: [o.strides ?? 1, o.strides ?? 1], padding: o.padding ?? "valid", depth_multiplier: 1,
    data_format: "channels_last", dilation_rate: [1, 1], activation: o.activation ?? "linear", use_bias: o.bias ?? true,
  }, [from]);

export const batchNorm = (name: string, epsilon: number, from: string, momentum = 0.99): LayerJson =>
  layer("BatchNormalization", name, { axis: -1, momentum, epsilon, center: true, scale: true }, [from]);

export const relu = (name: string, from: string, maxValue?: number): LayerJson =>
  maxValue === undefined ? layer("Activation", name, { activation: "relu" }, [from]) : layer("ReLU", name, { max_value: maxValue, negative_slope: 0, threshold: 0 }, [from]);

export const zeroPad = (name: string, padding: [[number, number], [number, number]], from: string): LayerJson =>
  layer("ZeroPadding2D", name, { padding, data_format: "channels_last" }, [from]);

export const add = (name: string, from: string[]): LayerJson => layer("Add", name, {}, from);

export const maxPool = (name: string, size: number, strides: number, padding: "same" | "valid", from: string): LayerJson =>
  layer("MaxPooling2D", name, { pool_size: [size, size], strides: [strides, strides], padding, data_format: "channels_last" }, [from]);

/** A functional model from its layers in creation order, with one input and one output. */
export function functional(name: string, layers: LayerJson[]): ModelTopology {
  const config: FunctionalConfig = {
    name, layers,
    input_layers: [[layers[0]!.name, 0, 0]],
    output_layers: [[layers[layers.length - 1]!.name, 0, 0]],
  };
  return { class_name: "Functional", config, keras_version: "2.15.0", backend: "tensorflow" };
}
