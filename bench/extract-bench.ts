/**
 * Extraction benchmarks inside one backend's worker: MobileNetV2 cut at out_relu plus global
 * average pooling, batch 32, fed from host Float32Arrays the way the extract stage feeds it.
 */
import * as tf from "@tensorflow/tfjs";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildBase } from "../src/models/build";
import { foldForInference, type InferenceModel } from "../src/models/fold";
import { inferenceEngine } from "../src/models/engine";
import { featureExtractor, type FeatureExtractor } from "../src/models/graph";
import { poolSettings } from "../src/models/onnx/workers";
import { loadArtifacts } from "../src/models/source";
import { EMOJI_DIR, ROOT, assertFlat, decodeInputs, listImages, numTensors } from "./common";

const BATCH = 32;
const models = new Map<number, tf.LayersModel>();
const foldedModels = new Map<string, InferenceModel>();
const inputs = new Map<number, Float32Array>();
const saved = new Map<string, { predict(x: tf.Tensor): unknown; dispose(): void }>();

async function modelFor(size: number): Promise<tf.LayersModel> {
  let m = models.get(size);
  if (!m) {
    m = await buildBase(loadArtifacts("mobilenet_v2", ROOT), "out_relu", [size, size]);
    models.set(size, m);
  }
  return m;
}

/**
 * The extract stage's runner: BatchNorm folded into a copy of the convs, compiled on the native
 * backend (the process's inference engine); `eager` keeps the folded base op by op.
 */
async function foldedFor(size: number, how: "stage" | "main" | "eager" = "main"): Promise<InferenceModel> {
  const key = `${size}:${how}`;
  let f = foldedModels.get(key);
  if (!f) {
    const folded = foldForInference(await modelFor(size));
    const fast = how === "eager" ? folded : await inferenceEngine().forward(folded, [BATCH, size, size, 3]);
    if (how !== "eager" && tf.getBackend() === "tensorflow" && !("runner" in fast && /^onnxruntime/.test(String(fast.runner)))) throw new Error(`extract ${size}px did not compile: ${(fast as { runner?: string }).runner}`);
    foldedModels.set(key, (f = fast));
  }
  return f;
}

const extractors = new Map<number, { fe: FeatureExtractor; inFlight: number }>();

/** The extract stage's own path: featureExtractor on poolSettings()' worker sessions, fed host batches. */
async function stageExtractorFor(size: number): Promise<{ fe: FeatureExtractor; inFlight: number }> {
  let e = extractors.get(size);
  if (!e) {
    const workers = poolSettings();
    const fe = await featureExtractor(loadArtifacts("mobilenet_v2", ROOT), "out_relu", [size, size], { batch: workers.batch, workers });
    if (!/workers? x /.test(fe.runner ?? "")) throw new Error(`extract ${size}px did not start its inference workers: ${fe.runner}`);
    extractors.set(size, (e = { fe, inFlight: Math.max(1, workers.workers) }));
  }
  return e;
}

/** `count` host batches through the stage's extractor, with as many in flight as the stage keeps. */
async function stageBatches(e: { fe: FeatureExtractor; inFlight: number }, x: Float32Array, count: number): Promise<void> {
  const queue: Array<Promise<Float32Array>> = [];
  for (let i = 0; i < count; i++) {
    queue.push(e.fe.rowsAsync(x, BATCH));
    if (queue.length >= e.inFlight) await queue.shift();
  }
  await Promise.all(queue);
}

/** One batch of real emoji images at `size`, decoded once and reused. */
async function inputFor(size: number): Promise<Float32Array> {
  let x = inputs.get(size);
  if (!x) {
    x = await decodeInputs(listImages(EMOJI_DIR), BATCH, size);
    inputs.set(size, x);
  }
  return x;
}

/** The product path: host batch -> tensor -> folded base (or the LayersModel) -> pooled rows back on the host. */
async function pooled(m: InferenceModel | tf.LayersModel, x: Float32Array, size: number): Promise<Float32Array> {
  const run = (t: tf.Tensor): tf.Tensor => (m instanceof tf.LayersModel ? (m.predict(t) as tf.Tensor) : m.predict(t)[0]!);
  const rows = tf.tidy(() => tf.mean(run(tf.tensor4d(x, [BATCH, size, size, 3])), [1, 2]));
  const out = (await rows.data()) as Float32Array;
  rows.dispose();
  return out;
}

/** A frozen-graph SavedModel run as one TF session call (tfjs-node only); diagnostic variant. */
async function savedModelFor(dir: string): Promise<{ predict(x: tf.Tensor): unknown; dispose(): void }> {
  let m = saved.get(dir);
  if (!m) {
    const tfn = require("@tensorflow/tfjs-node") as { node: { loadSavedModel(p: string): Promise<{ predict(x: tf.Tensor): unknown; dispose(): void }> } };
    m = await tfn.node.loadSavedModel(dir);
    saved.set(dir, m);
  }
  return m;
}

async function pooledSaved(m: { predict(x: tf.Tensor): unknown }, x: Float32Array, size: number): Promise<Float32Array> {
  const input = tf.tensor4d(x, [BATCH, size, size, 3]);
  const out = m.predict(input) as tf.Tensor | Record<string, tf.Tensor>;
  const t = out instanceof tf.Tensor ? out : Object.values(out)[0]!;
  const data = (await t.data()) as Float32Array;
  tf.dispose([input, t]);
  return data;
}

/**
 * img/s over `batches` batches after `warmup` untimed ones; asserts no tensor growth. `stage`:
 * what the extract stage runs, on its inference workers; `main`: the same compiled net on the
 * main thread, through tensors; `eager`: the folded base op by op, as before compiling;
 * `unfolded`: LayersModel.predict, as before folding.
 */
export async function extractRate(
  size: number, batches: number, warmup: number, savedModelDir?: string, variant: "stage" | "main" | "eager" | "unfolded" = "stage",
): Promise<Record<string, number>> {
  const x = await inputFor(size);
  /** `count` batches of `x`, one after another (or, for the stage, as many in flight as it keeps). */
  let run: (count: number) => Promise<void>;
  if (variant === "stage" && !savedModelDir && tf.getBackend() === "tensorflow") {
    const e = await stageExtractorFor(size);
    run = (count) => stageBatches(e, x, count);
  } else {
    const step = savedModelDir
      ? await savedModelFor(savedModelDir).then((m) => () => pooledSaved(m, x, size))
      : await (variant === "unfolded" ? modelFor(size) : foldedFor(size, variant)).then((m) => () => pooled(m, x, size));
    run = async (count) => {
      for (let i = 0; i < count; i++) await step();
    };
  }
  await run(warmup);
  const before = numTensors();
  const t0 = performance.now();
  await run(batches);
  const secs = (performance.now() - t0) / 1000;
  assertFlat(`extract ${size}px`, [before, numTensors()]);
  return { img_per_s: (batches * BATCH) / secs, seconds: secs, images: batches * BATCH, num_tensors: before };
}

/** Write the verification batch (input and pooled output) for the Keras side to compare. */
export async function writeVerify(size: number, dir: string): Promise<Record<string, string>> {
  const x = await inputFor(size);
  const y = await pooled(await foldedFor(size), x, size);
  const input = join(dir, `verify-${size}.in.f32`);
  const output = join(dir, `verify-${size}.tlrun.f32`);
  writeFileSync(input, new Uint8Array(x.buffer, x.byteOffset, x.byteLength));
  writeFileSync(output, new Uint8Array(y.buffer, y.byteOffset, y.byteLength));
  return { input, output };
}

/** Every layer's weights (Keras order) as float32 in one file, indexed by layer name in JSON. */
export async function exportWeights(dir: string): Promise<{ layers: number; bytes: number }> {
  const m = await modelFor(224);
  const index: Array<{ layer: string; weights: Array<{ name: string; shape: number[]; offset: number }> }> = [];
  const chunks: Float32Array[] = [];
  let offset = 0;
  for (const layer of m.layers) {
    const ws = layer.weights;
    if (!ws.length) continue;
    const entry = { layer: layer.name, weights: [] as Array<{ name: string; shape: number[]; offset: number }> };
    for (const w of ws) {
      const data = w.read().dataSync() as Float32Array;
      entry.weights.push({ name: w.originalName, shape: w.shape as number[], offset });
      chunks.push(data);
      offset += data.length;
    }
    index.push(entry);
  }
  const all = new Float32Array(offset);
  let o = 0;
  for (const c of chunks) all.set(c, o), (o += c.length);
  writeFileSync(join(dir, "weights.bin"), new Uint8Array(all.buffer));
  writeFileSync(join(dir, "weights.json"), JSON.stringify(index));
  return { layers: index.length, bytes: all.byteLength };
}
