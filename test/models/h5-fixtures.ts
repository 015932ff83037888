import type { Architecture } from "../../src/models/zoo";
import type { LayerJson, ModelTopology } from "../../src/models/topology";

type H5 = typeof import("h5wasm");
const dynamicImport = new Function("s", "return import(s)") as (s: string) => Promise<H5>;

/** A layer as a test writes it: name and its weights' (name, shape), values counting up from `start`. */
export type LayerSpec = [string, Array<[string, number[]]>];

/**
 * Write a Keras-layout .h5 with h5wasm: `weights` is what `save_weights` writes (attributes on the
 * root), `model` what `model.save` writes (the same under `model_weights`). Weight values are
 * i * 0.001 in file order, so a test can check where each one landed.
 */
export async function writeKerasH5(
  path: string, layers: LayerSpec[], layout: "weights" | "model" = "weights", splitNames = false,
  init?: (shape: number[]) => Float32Array,
): Promise<void> {
  const m = await dynamicImport("h5wasm/node");
  await m.ready;
  const f = new m.File(path, "w");
  try {
    const root = layout === "model" ? f.create_group("model_weights") : f;
    const names = layers.map(([n]) => n);
    if (splitNames) {
      const half = Math.ceil(names.length / 2);
      root.create_attribute("layer_names0", names.slice(0, half));
      root.create_attribute("layer_names1", names.slice(half));
    } else root.create_attribute("layer_names", names);
    root.create_attribute("backend", "tensorflow");
    let i = 0;
    for (const [name, weights] of layers) {
      const g = root.create_group(name);
      g.create_attribute("weight_names", weights.length ? weights.map(([w]) => `${name}/${w}:0`) : [""]);
      const sub = weights.length ? g.create_group(name) : g; // Keras nests the datasets: <layer>/<layer>/kernel:0
      for (const [w, shape] of weights) {
        const n = shape.reduce((a, b) => a * b, 1);
        const data = init ? init(shape) : Float32Array.from({ length: n }, () => i++ * 0.001);
        sub.create_dataset({ name: `${w}:0`, data, shape });
      }
    }
  } finally {
    f.close();
  }
}

/** A tiny two-conv architecture for tests that need a real topology but not VGG's 58 MB. */
export function tinyArchitecture(): Architecture {
  const conv = (name: string, filters: number, from: string) => ({
    class_name: "Conv2D",
    name,
    config: { name, trainable: true, filters, kernel_size: [3, 3], strides: [1, 1], padding: "same", activation: "relu", use_bias: true },
    inbound_nodes: [[[from, 0, 0, {}]]],
  });
  const topology: ModelTopology = {
    class_name: "Functional",
    config: {
      name: "tiny",
      layers: [
        { class_name: "InputLayer", name: "input_1", config: { batch_input_shape: [null, 8, 8, 3], dtype: "float32", name: "input_1" }, inbound_nodes: [] },
        conv("c1", 4, "input_1"),
        conv("c2", 2, "c1"),
      ] as LayerJson[],
      input_layers: [["input_1", 0, 0]],
      output_layers: [["c2", 0, 0]],
    },
  };
  return {
    name: "tiny", topology: () => structuredClone(topology), preprocessing: "tf", defaultCut: "c2", defaultInput: 8, minInput: 8,
    imagenet: { file: "tiny.h5", url: "http://127.0.0.1:1/tiny.h5" },
  };
}

/** The layers of `tinyArchitecture` as Keras would save them. */
export const TINY_LAYERS: LayerSpec[] = [
  ["input_1", []],
  ["c1", [["kernel", [3, 3, 3, 4]], ["bias", [4]]]],
  ["c2", [["kernel", [3, 3, 4, 2]], ["bias", [2]]]],
];

/** Keras VGG16's notop layers as save_weights writes them (input, 13 convolutions, 5 pools). */
export function vgg16Layers(): LayerSpec[] {
  const out: LayerSpec[] = [["input_1", []]];
  let channels = 3;
  [[2, 64], [2, 128], [3, 256], [3, 512], [3, 512]].forEach(([convs, filters], b) => {
    for (let c = 1; c <= convs!; c++) {
      out.push([`block${b + 1}_conv${c}`, [["kernel", [3, 3, channels, filters!]], ["bias", [filters!]]]]);
      channels = filters!;
    }
    out.push([`block${b + 1}_pool`, []]);
  });
  return out;
}

/** He-normal-like seeded weights (biases zero), so a deep random ReLU network stays finite. */
export function heInit(seed = 1): (shape: number[]) => Float32Array {
  let s = seed >>> 0;
  const uniform = (): number => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) + 0.5) / 2 ** 32;
  return (shape) => {
    const n = shape.reduce((a, b) => a * b, 1);
    if (shape.length === 1) return new Float32Array(n);
    const std = Math.sqrt(2 / (n / shape[shape.length - 1]!));
    return Float32Array.from({ length: n }, () => std * Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform()));
  };
}
