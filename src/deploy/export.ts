import * as tf from "@tensorflow/tfjs";
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve, sep } from "node:path";
import { TlrunError, UsageError } from "../errors";
import { loadModel } from "../models/io";
import { tempPathFor } from "../util/atomic";
import { cardReadme } from "./card-readme";
import { eagerProbabilities } from "./classifier-trace";
import { CARD_FILE, cardOf, type ExportInfo, type ModelCard } from "./model-card";
import { maxAbsDiff, ONNX_INPUT, ONNX_OUTPUT, onnxMaxDiff, onnxModelBytes, randomPixels } from "./onnx";
import { readRun, type RunFiles } from "./run-folder";
import { SIGNATURE, writeSavedModel } from "./savedmodel";

export const FORMATS = ["tfjs", "onnx", "savedmodel"] as const;
export type ExportFormat = (typeof FORMATS)[number];

export interface ExportOptions {
  format: ExportFormat;
  out: string;
  /** Replace a non-empty `out`. */
  force?: boolean;
}

export interface ExportResult {
  out: string;
  format: ExportFormat;
  files: string[];
  card: ModelCard;
}

/** Batch sizes every export is checked at against the tfjs model before it is put in place. */
const CHECK_BATCHES = [1, 5];
/** The largest |exported − tfjs| an export may show; above it nothing is written. */
const TOLERANCE = 1e-4;

/**
 * Export a finished run's model in one format, with its model card, into `out`. Everything is
 * written into a temporary folder beside `out`, checked against the tfjs model, and renamed into
 * place: a crash or a failed check leaves `out` as it was.
 */
export async function exportRun(runDir: string, opts: ExportOptions): Promise<ExportResult> {
  const run = readRun(runDir);
  if (run.graphModel) {
    throw new TlrunError(
      `run ${run.id} has a graph-model base (${run.config.base.model}): its model is the base graph (model/base/) and a head trained on its features, `
      + "which tlrun does not join into one network, so it exports in none of tfjs, onnx or savedmodel; use the run's model/ folder with the base's own pooling",
    );
  }
  const out = resolve(opts.out);
  const inside = (child: string, parent: string): boolean => child === parent || child.startsWith(parent + sep);
  if (inside(resolve(run.dir), out) || inside(out, resolve(run.modelDir))) {
    throw new UsageError(`--out ${out} would replace the run's own files; choose a folder outside ${run.dir}/model`);
  }
  if (existsSync(out) && readdirSync(out).length > 0 && !opts.force) {
    throw new UsageError(`${out} exists and is not empty; choose another --out or pass --force to replace it`);
  }
  const tmp = tempPathFor(out);
  mkdirSync(dirname(out), { recursive: true });
  mkdirSync(tmp);
  const model = await loadModel(run.modelDir);
  try {
    const info = await writeFormat(tmp, opts.format, run, model);
    const card: ModelCard = { ...cardOf(run), export: info };
    writeFileSync(join(tmp, CARD_FILE), JSON.stringify(card, null, 2) + "\n");
    writeFileSync(join(tmp, "README.md"), cardReadme(card));
    const files = listFiles(tmp);
    if (existsSync(out)) rmSync(out, { recursive: true, force: true });
    renameSync(tmp, out);
    return { out, format: opts.format, files, card };
  } finally {
    model.dispose();
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** Write `format` into `dir` and check it against `model`; what the card says about it. */
async function writeFormat(dir: string, format: ExportFormat, run: RunFiles, model: tf.LayersModel): Promise<ExportInfo> {
  const size = run.config.base.input_size;
  const [, h, w, c] = model.inputs[0]!.shape;
  if (h !== size[0] || w !== size[1] || c !== 3) {
    throw new TlrunError(`run ${run.id}'s model takes [${h}, ${w}, ${c}] images but its config says base.input_size [${size.join(", ")}]; the model card would be wrong`);
  }
  const units = (model.outputs[0]!.shape as number[])[1];
  if (format === "tfjs") {
    // the run's files as they are: the same bytes as the weights sha256 the run's MLflow tags name
    const json = JSON.parse(readFileSync(join(run.modelDir, "model.json"), "utf8")) as { weightsManifest: Array<{ paths: string[] }> };
    for (const f of ["model.json", ...json.weightsManifest.flatMap((g) => g.paths)]) copyFileSync(join(run.modelDir, f), join(dir, f));
    const reloaded = await loadModel(dir);
    try {
      return {
        format, file: "model.json", input_name: model.inputs[0]!.name, output_name: model.outputs[0]!.name,
        output: units === 1 ? "positive_probability" : "class_probabilities",
        check: { max_abs_diff: eagerMaxDiff(model, reloaded, size), batches: CHECK_BATCHES },
      };
    } finally {
      reloaded.dispose();
    }
  }
  if (format === "onnx") {
    const bytes = await onnxModelBytes(model, { inputSize: size, name: run.config.name });
    const diff = checked(onnxMaxDiff(bytes, model, size, CHECK_BATCHES), format);
    writeFileSync(join(dir, "model.onnx"), bytes);
    return { format, file: "model.onnx", input_name: ONNX_INPUT, output_name: ONNX_OUTPUT, output: "class_probabilities", check: { max_abs_diff: diff, batches: CHECK_BATCHES } };
  }
  writeSavedModel(dir, model, size);
  const diff = checked(await savedModelMaxDiff(dir, model, size), format);
  return { format, file: "saved_model.pb", input_name: ONNX_INPUT, output_name: ONNX_OUTPUT, output: "class_probabilities", check: { max_abs_diff: diff, batches: CHECK_BATCHES }, signature: SIGNATURE };
}

function checked(diff: number, format: ExportFormat): number {
  if (!(diff <= TOLERANCE)) throw new TlrunError(`the ${format} export differs from the tfjs model by ${diff.toExponential(2)} (more than ${TOLERANCE}); nothing was written`);
  return diff;
}

/** Largest |a − b| between two tfjs models' class probabilities on random batches. */
function eagerMaxDiff(a: tf.LayersModel, b: tf.LayersModel, size: [number, number]): number {
  return Math.max(...CHECK_BATCHES.map((n) => {
    const shape: [number, number, number, number] = [n, ...size, 3];
    const x = randomPixels(shape, n);
    return maxAbsDiff(eagerProbabilities(a, x, shape), eagerProbabilities(b, x, shape));
  }));
}

/** The SavedModel in `dir`, loaded by tfjs-node's TensorFlow, against the tfjs model. */
async function savedModelMaxDiff(dir: string, model: tf.LayersModel, size: [number, number]): Promise<number> {
  const node = require("@tensorflow/tfjs-node") as { node: { loadSavedModel(dir: string, tags: string[], sig: string): Promise<{ predict(x: tf.Tensor): tf.Tensor | Record<string, tf.Tensor>; dispose(): void }> } };
  let loaded;
  try {
    loaded = await node.node.loadSavedModel(dir, ["serve"], SIGNATURE);
  } catch (err) {
    throw new TlrunError(`TensorFlow does not load the SavedModel: ${(err as Error).message.split("\n")[0]}`);
  }
  try {
    let worst = 0;
    for (const n of CHECK_BATCHES) {
      const shape: [number, number, number, number] = [n, ...size, 3];
      const x = randomPixels(shape, n);
      const input = tf.tensor4d(x, shape);
      const y = loaded.predict(input);
      input.dispose();
      const t = y instanceof tf.Tensor ? y : y[ONNX_OUTPUT]!;
      const got = t.dataSync();
      tf.dispose(y);
      worst = Math.max(worst, maxAbsDiff(eagerProbabilities(model, x, shape), got));
    }
    return worst;
  } finally {
    loaded.dispose();
  }
}

function listFiles(dir: string, prefix = ""): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? [`${prefix}${d.name}/`, ...listFiles(join(dir, d.name), `${prefix}${d.name}/`)] : [`${prefix}${d.name}`])).sort();
}
