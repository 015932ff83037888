/**
 * A finished run as a classifier: which folder, its class names, how its images were decoded and
 * preprocessed, and its binary operating threshold. All of it comes from the run's own files
 * (config.resolved.yaml, manifest.json, report.json, summary.json), never from the user, so a
 * prediction sees exactly what evaluation saw.
 */
import { existsSync, readdirSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import type { DecodeOptions } from "../data/decode-options";
import type { PreprocessMode } from "../data/preprocess";
import type { EvaluationReport } from "../evaluation/types";
import { UsageError } from "../errors";
import { CARD_FILE, readModelCard } from "./model-card";
import { readRun as readRunFiles } from "./run-folder";
import { runPreprocessing } from "./preprocessing";

/** The binary decision of a two-class run: P(positive) >= threshold means `positive`. */
export interface BinaryRule {
  positive: string;
  negative: string;
  /** Index of the positive class in `classes` (the probability column it is read from). */
  positiveIndex: number;
  threshold: number;
  /** Where the threshold came from: report.json's rule ("youden", "fixed", ...), "default 0.5" or "--threshold". */
  rule: string;
}

export interface RunModel {
  dir: string;
  id: string;
  classes: string[];
  /** How an image becomes the model's input, as in training: decode, then preprocess. */
  decode: DecodeOptions;
  preprocessing: PreprocessMode;
  /** Set for a two-class run. */
  binary?: BinaryRule;
  /** The saved model: a LayersModel of base and head, or (graph-model base) the head with the base in `base/`. */
  modelDir: string;
  /** An exported folder's ONNX file (tlrun export --format onnx), run on ONNX Runtime instead of tfjs. */
  onnxFile?: string;
  graphBase: boolean;
  /** How the head's features were pooled from a graph base's map. */
  pooling: "avg" | "max";
}

/** A run id under `runsDir` (or its unique part), a path to a run folder, or a folder `tlrun export` wrote. */
export function findRunDir(runsDir: string, idOrPath: string): string {
  const direct = isAbsolute(idOrPath) || idOrPath.includes("/") || idOrPath.startsWith(".") ? resolve(idOrPath) : join(runsDir, idOrPath);
  for (const d of [direct, resolve(idOrPath)]) if (existsSync(join(d, "summary.json")) || existsSync(join(d, CARD_FILE))) return d;
  const ids = existsSync(runsDir) ? readdirSync(runsDir).filter((n) => existsSync(join(runsDir, n, "summary.json"))) : [];
  const near = ids.filter((n) => n.includes(idOrPath));
  if (near.length === 1) return join(runsDir, near[0]!);
  const hint = near.length ? `; it matches ${near.length} runs: ${near.slice(0, 3).join(", ")}${near.length > 3 ? ", ..." : ""}` : ` (pass --runs-dir, or a path to a run folder)`;
  throw new UsageError(`no run '${idOrPath}' in ${runsDir}${hint}`);
}

/** The binary rule of a two-class run: report.json's when evaluation wrote one, else P(second class) >= 0.5 (argmax). */
function binaryRule(classes: string[], report: Partial<EvaluationReport> | undefined): BinaryRule | undefined {
  if (classes.length !== 2) return undefined;
  const b = report?.binary;
  if (b && classes.includes(b.positive_class))
    return { positive: b.positive_class, negative: b.negative_class, positiveIndex: classes.indexOf(b.positive_class), threshold: b.threshold, rule: b.rule };
  return { positive: classes[1]!, negative: classes[0]!, positiveIndex: 1, threshold: 0.5, rule: "default 0.5" };
}

/**
 * A folder `tlrun export` wrote, from its model card: tfjs (the same LayersModel as the run's) or
 * onnx (run on ONNX Runtime). A SavedModel needs TensorFlow, which predict does not load.
 */
export function readExported(dir: string): RunModel {
  const card = readModelCard(dir);
  const e = card.export;
  if (!e || (e.format !== "tfjs" && e.format !== "onnx"))
    throw new UsageError(`${dir} holds a ${e?.format ?? "model of no known"} export; tlrun predict reads the tfjs and onnx exports (or the run folder itself)`);
  const d = card.decision;
  const classes = card.classes;
  return {
    dir, id: card.run_id, classes, modelDir: dir,
    ...(e.format === "onnx" ? { onnxFile: join(dir, e.file) } : {}),
    decode: { size: [card.input.height, card.input.width], colorMode: card.input.color_mode, maxPixels: 50_000_000, interpolation: card.input.interpolation as DecodeOptions["interpolation"] },
    preprocessing: card.input.preprocessing.mode,
    binary: d.kind === "threshold"
      ? { positive: d.positive_class, negative: d.negative_class, positiveIndex: d.positive_index, threshold: d.threshold, rule: d.rule }
      : binaryRule(classes, undefined),
    graphBase: false,
    pooling: "avg",
  };
}

/** Read a run folder (or an exported one) and check it can predict: completed, with a saved model and its class names. */
export function readRun(dir: string): RunModel {
  if (!existsSync(join(dir, "summary.json")) && existsSync(join(dir, CARD_FILE))) return readExported(dir);
  const run = readRunFiles(dir, "predict with");
  const { config, manifest: { classes } } = run;
  const d = config.data;
  return {
    dir, id: run.id, classes, modelDir: run.modelDir,
    decode: { size: config.base.input_size, colorMode: d.color_mode, maxPixels: d.max_pixels, interpolation: d.interpolation },
    preprocessing: runPreprocessing(config, dir),
    binary: binaryRule(classes, run.report ?? undefined),
    graphBase: run.graphModel,
    pooling: config.head.pooling === "max" ? "max" : "avg",
  };
}

/** `--threshold` applied: only a two-class run has one, and it must be a probability. */
export function withThreshold(run: RunModel, threshold: number | undefined): RunModel {
  if (threshold === undefined) return run;
  if (!run.binary)
    throw new UsageError(`--threshold applies to a two-class run; run ${run.id} has ${run.classes.length} classes (${run.classes.join(", ")}) and predicts the most probable one (use --top-k to see more)`);
  if (!(threshold >= 0 && threshold <= 1)) throw new UsageError(`--threshold ${threshold} is not a probability between 0 and 1`);
  return { ...run, binary: { ...run.binary, threshold, rule: "--threshold" } };
}
