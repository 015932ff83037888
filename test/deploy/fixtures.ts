import * as tf from "@tensorflow/tfjs";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "yaml";
import { saveModel } from "../../src/models/io";

/**
 * A small image classifier with the layers the exporters must handle: conv + BatchNorm + ReLU6
 * (folded on export), depthwise conv, pooling, then a flatten (a Reshape spelling out the batch)
 * or global pooling, and a softmax or one-unit sigmoid output. BatchNorm statistics are set away
 * from identity so that folding them matters.
 */
export function tinyClassifier(opts: { classes: number; sigmoid?: boolean; flatten?: boolean; size?: number }): tf.LayersModel {
  const size = opts.size ?? 16;
  {
    const input = tf.input({ shape: [size, size, 3], name: "image" });
    let x = tf.layers.conv2d({ filters: 8, kernelSize: 3, strides: 2, padding: "same", useBias: false, name: "conv1", kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }).apply(input) as tf.SymbolicTensor;
    const bn = tf.layers.batchNormalization({ name: "bn1" });
    x = bn.apply(x) as tf.SymbolicTensor;
    x = tf.layers.reLU({ maxValue: 6, name: "relu1" }).apply(x) as tf.SymbolicTensor;
    x = tf.layers.depthwiseConv2d({ kernelSize: 3, padding: "same", name: "dw", depthwiseInitializer: tf.initializers.glorotUniform({ seed: 2 }) }).apply(x) as tf.SymbolicTensor;
    x = tf.layers.maxPooling2d({ poolSize: 2, name: "pool" }).apply(x) as tf.SymbolicTensor;
    x = (opts.flatten ? tf.layers.flatten({ name: "flat" }) : tf.layers.globalAveragePooling2d({ name: "head_pool" })).apply(x) as tf.SymbolicTensor;
    x = tf.layers.dense({ units: 6, activation: "relu", name: "head_dense_0", kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }) }).apply(x) as tf.SymbolicTensor;
    const units = opts.sigmoid ? 1 : opts.classes;
    const out = tf.layers.dense({ units, activation: opts.sigmoid ? "sigmoid" : "softmax", name: "head_output", kernelInitializer: tf.initializers.glorotUniform({ seed: 4 }) }).apply(x) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: out, name: "tiny" });
    tf.tidy(() => {
      const [gamma, beta, mean, variance] = bn.getWeights();
      bn.setWeights([tf.add(gamma!, 0.3), tf.add(beta!, 0.1), tf.add(mean!, 0.05), tf.add(variance!, 0.5)]);
    });
    return model;
  }
}

/**
 * A finished run folder written by hand, as a run leaves it: model/ (saveModel), the resolved
 * config, manifest.json, report.json and summary.json. `binary` writes a two-class run whose
 * report has the binary block (threshold, operating points with CIs); `oldReport` one from before
 * intervals, with bare numbers.
 */
export async function tinyRun(runsDir: string, id: string, opts: { binary?: boolean; oldReport?: boolean; status?: string; size?: number; model?: tf.LayersModel } = {}): Promise<{ dir: string; model: tf.LayersModel }> {
  const size = opts.size ?? 16;
  const classes = opts.binary ? ["normal", "tuberculosis"] : ["cat", "dog", "fox"];
  const model = opts.model ?? tinyClassifier({ classes: classes.length, sigmoid: opts.binary, flatten: true, size });
  const dir = join(runsDir, id);
  await saveModel(model, join(dir, "model"));
  const config = {
    name: "tiny", seed: 42,
    data: { dir: "../data", preprocessing: "tf", color_mode: opts.binary ? "grayscale" : "rgb", interpolation: "bilinear" },
    base: { model: "mobilenet_v2", cut: "out_relu", input_size: [size, size], weights: "" },
  };
  writeFileSync(join(dir, "config.resolved.yaml"), stringify(config));
  const items = classes.flatMap((c, label) => [0, 1, 2].map((i) => ({ rel: `${c}/${i}.png`, label, split: i === 0 ? "test" : i === 1 ? "val" : "train", sha256: "0".repeat(64), width: 8, height: 8 })));
  const counts = Object.fromEntries(["train", "val", "test"].map((s) => [s, Object.fromEntries(classes.map((c) => [c, 1]))]));
  writeFileSync(join(dir, "manifest.json"), JSON.stringify({ version: 1, classes, items, bad: [], skipped: [], counts }));
  const est = (value: number) => (opts.oldReport ? value : { value, low: value - 0.1, high: Math.min(1, value + 0.1) });
  const per = Object.fromEntries(classes.map((c) => [c, { precision: 0.8, recall: 0.75, specificity: 0.9, f1: 0.77, support: 1, auc: 0.85 }]));
  const point = { threshold: 0.31, tp: 1, fp: 0, tn: 1, fn: 0, sensitivity: est(0.9), specificity: est(0.7), ppv: est(0.6), npv: est(0.95) };
  const report = {
    split: "test", source: "images", classes, n: classes.length, accuracy: est(0.8), macro_precision: 0.8, macro_recall: 0.75, macro_f1: est(0.77),
    macro_auc: est(0.85), log_loss: 0.5, per_class: per,
    ...(opts.oldReport ? {} : {
      confusion: [], calibration: { ece: 0.05, bins: [] }, roc: {}, pr: {}, bootstrap: { resamples: 1000, seed: 42, confidence: 0.95 },
      warnings: [{ kind: "small_split", message: "the test split has 2 images" }], weights: "fine-tune", explain: [],
      binary: opts.binary ? { positive_class: "tuberculosis", negative_class: "normal", rule: "target_sensitivity=0.9", threshold: 0.31, val: point, test: point, auc: est(0.85), roc: { x: [], y: [], thresholds: [] }, pr: { x: [], y: [], thresholds: [] }, average_precision: 0.8 } : null,
    }),
  };
  writeFileSync(join(dir, "report.json"), JSON.stringify(report));
  writeFileSync(join(dir, "summary.json"), JSON.stringify({ run_id: id, run_dir: dir, name: "tiny", status: opts.status ?? "completed", backend: "native", started_at: new Date().toISOString(), stages: [], metrics: {}, warnings: [], ...(opts.status === "failed" ? { error: "train-head: out of memory" } : {}) }));
  return { dir, model };
}
