import type { FunctionalConfig, LayerJson, ModelTopology } from "../topology";

/** Keras' VGG blocks: (convolutions, filters) per block. */
const BLOCKS: Record<"vgg16" | "vgg19", Array<[number, number]>> = {
  vgg16: [[2, 64], [2, 128], [3, 256], [3, 512], [3, 512]],
  vgg19: [[2, 64], [2, 128], [4, 256], [4, 512], [4, 512]],
};

function conv(name: string, filters: number, from: string): LayerJson {
  return {
    class_name: "Conv2D",
    name,
    config: {
      name, trainable: true, filters, kernel_size: [3, 3], strides: [1, 1], padding: "same",
      data_format: "channels_last", dilation_rate: [1, 1], activation: "relu", use_bias: true,
      kernel_initializer: { class_name: "GlorotUniform", config: { seed: null } },
      bias_initializer: { class_name: "Zeros", config: {} },
    },
    inbound_nodes: [[[from, 0, 0, {}]]],
  };
}

function pool(name: string, from: string): LayerJson {
  return {
    class_name: "MaxPooling2D",
    name,
    config: { name, trainable: true, pool_size: [2, 2], strides: [2, 2], padding: "valid", data_format: "channels_last" },
    inbound_nodes: [[[from, 0, 0, {}]]],
  };
}

/**
 * keras.applications.VGG16/VGG19 with include_top=False, as a Keras functional topology with
 * Keras' own layer names (block1_conv1 … block5_pool), so Keras weights map by name.
 */
export function vggTopology(arch: "vgg16" | "vgg19"): ModelTopology {
  const layers: LayerJson[] = [
    {
      class_name: "InputLayer",
      name: "input_1",
      config: { batch_input_shape: [null, 224, 224, 3], dtype: "float32", sparse: false, name: "input_1" },
      inbound_nodes: [],
    },
  ];
  let last = "input_1";
  BLOCKS[arch].forEach(([convs, filters], b) => {
    for (let c = 1; c <= convs; c++) {
      const name = `block${b + 1}_conv${c}`;
      layers.push(conv(name, filters, last));
      last = name;
    }
    layers.push(pool(`block${b + 1}_pool`, last));
    last = `block${b + 1}_pool`;
  });
  const config: FunctionalConfig = { name: arch, layers, input_layers: [["input_1", 0, 0]], output_layers: [[last, 0, 0]] };
  return { class_name: "Functional", config, keras_version: "2.9.0", backend: "tensorflow" };
}
