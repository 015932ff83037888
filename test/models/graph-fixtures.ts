import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const b64 = (s: string): string => Buffer.from(s).toString("base64");
const dims = (shape: number[]) => ({ dim: shape.map((n) => ({ size: String(n) })) });

/**
 * A tiny TF-Hub-style feature-vector GraphModel written by hand as TensorFlow's converter would:
 * images [n, h, w, 3] -> 3x3 conv, stride 2, 8 filters -> ReLU -> mean over height and width ->
 * a [n, 8] feature vector. Returns the filter so a test can compute the expected output.
 */
export function writeGraphModel(dir: string, seed = 1): { filter: Float32Array; json: Record<string, unknown> } {
  let s = seed;
  const filter = Float32Array.from({ length: 3 * 3 * 3 * 8 }, () => ((s = (s * 16807) % 2147483647) / 2147483647 - 0.5) * 0.5);
  const f32 = { type: "DT_FLOAT" };
  const modelTopology = {
    node: [
      { name: "images", op: "Placeholder", attr: { dtype: f32, shape: { shape: dims([-1, -1, -1, 3]) } } },
      { name: "filter", op: "Const", attr: { dtype: f32, value: { tensor: { dtype: "DT_FLOAT", tensorShape: dims([3, 3, 3, 8]) } } } },
      { name: "axes", op: "Const", attr: { dtype: { type: "DT_INT32" }, value: { tensor: { dtype: "DT_INT32", tensorShape: dims([2]) } } } },
      { name: "conv", op: "Conv2D", input: ["images", "filter"], attr: {
        T: f32, strides: { list: { i: ["1", "2", "2", "1"] } }, padding: { s: b64("SAME") }, data_format: { s: b64("NHWC") },
        dilations: { list: { i: ["1", "1", "1", "1"] } }, use_cudnn_on_gpu: { b: true }, explicit_paddings: { list: {} } } },
      { name: "relu", op: "Relu", input: ["conv"], attr: { T: f32 } },
      { name: "feature_vector", op: "Mean", input: ["relu", "axes"], attr: { T: f32, Tidx: { type: "DT_INT32" }, keep_dims: { b: false } } },
    ],
    library: {},
    versions: { producer: 1286 },
  };
  const weights = Buffer.concat([Buffer.from(filter.buffer), Buffer.from(new Int32Array([1, 2]).buffer)]);
  const json = {
    format: "graph-model",
    generatedBy: "2.15.0",
    convertedBy: "hand-written test fixture",
    modelTopology,
    weightsManifest: [{ paths: ["group1-shard1of1.bin"], weights: [
      { name: "filter", shape: [3, 3, 3, 8], dtype: "float32" },
      { name: "axes", shape: [2], dtype: "int32" },
    ] }],
  };
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "model.json"), JSON.stringify(json));
  writeFileSync(join(dir, "group1-shard1of1.bin"), weights);
  return { filter, json };
}
