/**
 * A hand-built finished run folder for the predict and MLflow-model tests: a small tfjs model
 * (conv, BatchNorm, pooling, dense) saved with saveModel, and the config, manifest, report and
 * summary files a real run leaves.
 */
import * as tf from "@tensorflow/tfjs";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "yaml";
import { saveModel } from "../../src/models/io";

export const FIXTURE_SIZE: [number, number] = [24, 24];

export interface FixtureRun {
  dir: string;
  id: string;
  classes: string[];
  model: tf.LayersModel;
}

/** A tiny classifier over [24, 24, 3] images; a one-unit sigmoid when `sigmoid`. */
function tinyModel(k: number, sigmoid: boolean, seed: number): tf.LayersModel {
  const input = tf.input({ shape: [...FIXTURE_SIZE, 3] });
  let x = tf.layers.conv2d({ filters: 6, kernelSize: 3, strides: 2, kernelInitializer: tf.initializers.glorotUniform({ seed }) }).apply(input) as tf.SymbolicTensor;
  x = tf.layers.batchNormalization({ movingMeanInitializer: tf.initializers.constant({ value: 0.1 }), movingVarianceInitializer: tf.initializers.constant({ value: 0.5 }) }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.reLU().apply(x) as tf.SymbolicTensor;
  x = tf.layers.globalAveragePooling2d({}).apply(x) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: sigmoid ? 1 : k, activation: sigmoid ? "sigmoid" : "softmax", kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 1 }), biasInitializer: tf.initializers.constant({ value: 0.3 }) }).apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out });
}

/**
 * Write runs/<id>/ under `runsDir` with `classes`; `status` other than completed leaves a failed
 * run; `binary` writes report.json's binary block with that positive class and threshold.
 */
export async function writeFixtureRun(
  runsDir: string, id: string, classes: string[], opts: { status?: string; binary?: { positive: string; threshold: number }; sigmoid?: boolean } = {},
): Promise<FixtureRun> {
  const dir = join(runsDir, id);
  mkdirSync(dir, { recursive: true });
  const model = tinyModel(classes.length, opts.sigmoid ?? false, 11);
  await saveModel(model, join(dir, "model"));
  const config = {
    name: "fixture",
    data: { preprocessing: "auto", color_mode: "rgb", interpolation: "bilinear", max_pixels: 1_000_000 },
    base: { model: "mobilenet_v2", cut: "out_relu", input_size: FIXTURE_SIZE },
    head: { pooling: "avg" },
  };
  writeFileSync(join(dir, "config.resolved.yaml"), stringify(config));
  writeFileSync(join(dir, "manifest.json"), JSON.stringify({ version: 1, classes, items: [] }));
  const b = opts.binary;
  const binary = b ? { positive_class: b.positive, negative_class: classes.find((c) => c !== b.positive), rule: "youden", threshold: b.threshold } : null;
  writeFileSync(join(dir, "report.json"), JSON.stringify({ split: "test", classes, binary }));
  const status = opts.status ?? "completed";
  writeFileSync(join(dir, "summary.json"), JSON.stringify({ run_id: id, status, ...(status === "failed" ? { error: "train-head: out of memory" } : {}) }));
  return { dir, id, classes, model };
}
