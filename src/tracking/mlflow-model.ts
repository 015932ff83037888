/**
 * The run's classifier as an MLflow Model: an `onnx` flavor with python_function support and a
 * tensor signature, laid out as mlflow.onnx.save_model writes it (MLmodel, model.onnx,
 * conda.yaml, python_env.yaml, requirements.txt), so that Python loads what TypeScript trained
 * with `mlflow.pyfunc.load_model("runs:/<id>/model")` and the registry accepts it. The input is
 * preprocessed pixels; how to make them from an image is in the MLmodel's metadata, since the
 * ONNX graph starts after decoding.
 */
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "yaml";
import { activeBackend, selectBackend } from "../backend/select";
import { readRun, type RunModel } from "../deploy/load-run";
import { ONNX_INPUT, ONNX_OUTPUT, onnxModelBytes } from "../deploy/onnx";
import { describePreprocessing } from "../deploy/preprocessing";
import { TlrunError } from "../errors";
import { loadModel } from "../models/io";
import { writeFileAtomic } from "../util/atomic";
import { TLRUN_VERSION } from "../util/version";

/** The artifact name: `runs:/<id>/model`, and the logged model's name. */
export const MLFLOW_MODEL_NAME = "model";
/** Where the built files are kept in the run folder, so a later sync does not convert again. */
export const MLFLOW_MODEL_DIR = "mlflow-model";
/** The versions the model is known to load with: MLflow's pin (scripts/mlflow/setup.mjs) and ONNX Runtime's, the same as tlrun's own onnxruntime-node. */
export const PY_REQUIREMENTS = ["mlflow==3.17.2", "numpy<3", "onnx==1.19.1", "onnxruntime==1.30.0"];
const PYTHON = "3.11";
const FILES = ["model.onnx", "conda.yaml", "python_env.yaml", "requirements.txt"] as const;

/** What a user needs to turn an image into the model's input, and what the output means. */
export function modelMetadata(run: RunModel): Record<string, unknown> {
  const [h, w] = run.decode.size;
  const p = describePreprocessing(run.preprocessing);
  return {
    tlrun_version: TLRUN_VERSION,
    tlrun_run_id: run.id,
    classes: run.classes,
    output: `${ONNX_OUTPUT}: one probability per class, in the order of 'classes'`,
    preprocessing: {
      mode: run.preprocessing,
      formula: p.formula,
      channel_order: p.channel_order,
      mean: p.mean,
      std: p.std,
      input_size: [h, w],
      color_mode: run.decode.colorMode,
      interpolation: run.decode.interpolation,
      description: `decode the image (EXIF orientation applied, transparency flattened onto white), ${run.decode.colorMode === "grayscale" ? "convert to grayscale (ITU-R 601 luma) and repeat it over 3 channels, " : ""}resize to ${h}x${w} (height x width, aspect ratio not kept) with ${run.decode.interpolation} interpolation, then out[..., k] = (pixel[..., channel_order[k]] - mean[k]) / std[k] on 0..255 values (${p.formula}). Input '${ONNX_INPUT}' is float32 [batch, ${h}, ${w}, 3], channels last. 'tlrun predict' does all of this from the image file.`,
    },
    ...(run.binary ? { binary: { positive_class: run.binary.positive, negative_class: run.binary.negative, threshold: run.binary.threshold, rule: run.binary.rule } } : {}),
  };
}

/** The tensor signature MLflow checks inputs against: preprocessed pixels in, probabilities out. */
function signature(run: RunModel): Record<string, string | null> {
  const [h, w] = run.decode.size;
  const spec = (name: string, shape: number[]) => JSON.stringify([{ type: "tensor", "tensor-spec": { dtype: "float32", shape }, name }]);
  return { inputs: spec(ONNX_INPUT, [-1, h, w, 3]), outputs: spec(ONNX_OUTPUT, [-1, run.classes.length]), params: null };
}

/** The MLmodel file; `ids` once the server has made the logged model (the local copy has none). */
export function mlmodelYaml(run: RunModel, sizeBytes: number, ids?: { modelId: string; runId: string; artifactUri: string }): string {
  return stringify({
    ...(ids ? { artifact_path: ids.artifactUri } : {}),
    flavors: {
      onnx: { code: null, data: "model.onnx", onnx_session_options: null, onnx_version: "1.19.1", providers: ["CPUExecutionProvider"] },
      python_function: { data: "model.onnx", env: { conda: "conda.yaml", virtualenv: "python_env.yaml" }, loader_module: "mlflow.onnx", python_version: PYTHON },
    },
    is_signature_from_type_hint: false,
    metadata: modelMetadata(run),
    mlflow_version: "3.17.2",
    model_id: ids?.modelId ?? null,
    model_size_bytes: sizeBytes,
    model_uuid: ids?.modelId ?? run.id,
    prompts: null,
    ...(ids ? { run_id: ids.runId } : {}),
    signature: signature(run),
    type_hint_from_example: false,
    utc_time_created: new Date().toISOString().replace("T", " ").replace("Z", ""),
  });
}

function envFiles(): Record<(typeof FILES)[number], string> | Record<string, string> {
  return {
    "conda.yaml": stringify({ channels: ["conda-forge"], dependencies: [`python=${PYTHON}`, "pip", { pip: PY_REQUIREMENTS }], name: "mlflow-env" }),
    "python_env.yaml": stringify({ python: PYTHON, build_dependencies: ["pip", "setuptools", "wheel"], dependencies: ["-r requirements.txt"] }),
    "requirements.txt": PY_REQUIREMENTS.join("\n") + "\n",
  };
}

export interface BuiltModel {
  run: RunModel;
  /** The folder under the run holding the files (and a local MLmodel without server ids). */
  dir: string;
  /** Bytes of model.onnx and the environment files. */
  sizeBytes: number;
}

/**
 * Build (once) the MLflow Model folder of a completed run: convert its model to ONNX on the
 * native backend and write the flavor's files beside it. Throws TlrunError when the run's model
 * has no ONNX form here (a graph-model base, or a process without the native backend).
 */
export async function buildMlflowModel(runDir: string): Promise<BuiltModel> {
  const run = readRun(runDir);
  const dir = join(runDir, MLFLOW_MODEL_DIR);
  const size = () => FILES.reduce((n, f) => n + statSync(join(dir, f)).size, 0);
  if (FILES.every((f) => existsSync(join(dir, f))) && existsSync(join(dir, "MLmodel"))) return { run, dir, sizeBytes: size() };
  if (run.graphBase) throw new TlrunError("its base is a tfjs graph model, which has no ONNX form here");
  // the ONNX recording runs on the native backend: switch to it for the conversion if it loads
  const before = activeBackend();
  if (before?.tfBackend !== "tensorflow") await selectBackend("native").catch(() => (before ? undefined : selectBackend("auto")));
  const model = await loadModel(run.modelDir);
  try {
    const bytes = await onnxModelBytes(model, { inputSize: run.decode.size, name: run.id });
    mkdirSync(dir, { recursive: true });
    for (const [f, text] of Object.entries(envFiles())) writeFileSync(join(dir, f), text);
    writeFileSync(join(dir, "model.onnx"), bytes);
  } finally {
    model.dispose();
    if (before && activeBackend() !== before) await selectBackend(before.name);
  }
  writeFileAtomic(join(dir, "MLmodel"), mlmodelYaml(run, size())); // last: its presence means the folder is whole
  return { run, dir, sizeBytes: size() };
}

/** The files to upload for one logged model, MLmodel rendered with its ids. */
export function modelUploads(built: BuiltModel, ids: { modelId: string; runId: string; artifactUri: string }): Array<{ path: string; data: Uint8Array }> {
  return [
    ...FILES.map((f) => ({ path: f, data: new Uint8Array(readFileSync(join(built.dir, f))) })),
    { path: "MLmodel", data: new Uint8Array(Buffer.from(mlmodelYaml(built.run, built.sizeBytes, ids))) },
  ];
}
