/**
 * A run's saved model on the fast inference path, as evaluate's predictImages runs it: BatchNorm
 * folded, compiled to ONNX Runtime on the native backend (models/engine.ts), on the inference
 * workers the extract stage uses. Outputs are class probabilities, one row per image.
 */
import * as tf from "@tensorflow/tfjs";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { EXIT, TlrunError, UsageError } from "../errors";
import { loadOrt, ortSession } from "../models/onnx/runtime";
import { inferenceEngine, type FastInference } from "../models/engine";
import { foldForInference, type InferenceModel } from "../models/fold";
import { buildGraphBase, poolFeatures } from "../models/graph";
import { loadModel } from "../models/io";
import { loadModelFolder } from "../models/model-folder";
import type { WorkerSettings } from "../models/inference-types";
import { sha256 } from "../util/hash";
import type { RunModel } from "./load-run";

/** The model's input must be the size the run decodes to; a mismatch means the run's files disagree. */
function checkInput(run: RunModel, model: tf.LayersModel): void {
  const [, h, w, c] = model.inputs[0]!.shape;
  const [eh, ew] = run.decode.size;
  if ((h != null && h !== eh) || (w != null && w !== ew) || (c != null && c !== 3))
    throw new UsageError(`run ${run.id}: its model takes [${h}, ${w}, ${c}] images but ${run.dir.endsWith(run.id) ? "its config decodes them" : "its model card says"} [${eh}, ${ew}, 3]; the model does not belong with these files`);
}

/** Base graph, pooling and head as one model for a run whose base is a tfjs graph model. */
async function graphModel(run: RunModel): Promise<InferenceModel> {
  const base = await buildGraphBase(loadModelFolder(join(run.modelDir, "base")));
  const head = await loadModel(run.modelDir);
  return {
    predict: (x) => [tf.tidy(() => head.predict(poolFeatures(base.predict(x as tf.Tensor4D), run.pooling)) as tf.Tensor)],
    folded: { batchNorms: 0, activations: 0, convs: 0 },
    dispose: () => (head.dispose(), base.dispose()),
  };
}

async function layersModel(run: RunModel): Promise<InferenceModel> {
  const model = await loadModel(run.modelDir);
  checkInput(run, model);
  const folded = foldForInference(model);
  return { predict: (x) => folded.predict(x), folded: folded.folded, dispose: () => (folded.dispose(), model.dispose()) };
}

/** An exported ONNX file on an ONNX Runtime session, on this thread. */
function onnxClassifier(run: RunModel, file: string): FastInference {
  const ort = loadOrt();
  if (typeof ort === "string") throw new TlrunError(`cannot run ${file}: ${ort}`, EXIT.usage);
  const session = ortSession(ort, new Uint8Array(readFileSync(file)));
  const predictHost = (x: Float32Array, n: number, shape: readonly number[]): Float32Array[] => {
    try {
      return [session.run(x.subarray(0, n * shape.reduce((a, b) => a * b, 1)), [n, ...shape])[0]!.data];
    } catch (err) {
      throw new UsageError(`${file} did not take a batch of [${n}, ${shape.join(", ")}] (the size its model card gives): ${(err as Error).message.split("\n")[0]}`);
    }
  };
  return {
    predict: () => { throw new Error("an ONNX classifier runs on host arrays"); },
    predictHost, predictHostAsync: async (x, n, shape) => predictHost(x, n, shape),
    folded: { batchNorms: 0, activations: 0, convs: 0 }, runner: `onnxruntime ${ort.version} (exported ${file.split("/").pop()})`, dispose: () => session.dispose(),
  };
}

/** The run's classifier for batches of up to `batch` images, compiled when the engine can. */
export async function loadClassifier(run: RunModel, batch: number, workers?: WorkerSettings): Promise<FastInference> {
  if (run.onnxFile) return onnxClassifier(run, run.onnxFile);
  const inner = run.graphBase ? await graphModel(run) : await layersModel(run);
  const [h, w] = run.decode.size;
  // the compiled graph is cached by what it computes: these exact model files at this batch
  const cacheKey = sha256(Buffer.concat([readFileSync(join(run.modelDir, "model.json")), readFileSync(join(run.modelDir, "weights.bin"))]));
  return inferenceEngine().forward(inner, [batch, h, w, 3], { workers, cacheKey: `predict:${cacheKey}` });
}

/** Model outputs for `n` images as class probabilities [n * k]: a one-unit sigmoid becomes [1 - p, p]. */
export function classProbs(out: Float32Array, n: number, k: number): Float32Array {
  if (out.length === n * k) return out;
  if (k === 2 && out.length === n) {
    const probs = new Float32Array(n * 2);
    for (let i = 0; i < n; i++) (probs[2 * i] = 1 - out[i]!), (probs[2 * i + 1] = out[i]!);
    return probs;
  }
  throw new UsageError(`the model gives ${out.length / n} outputs per image but the run has ${k} classes; the model folder does not belong to this run`);
}
