import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { UsageError } from "../errors";
import type { Estimate, EvaluationReport } from "../evaluation/types";
import { sha256 } from "../util/hash";
import { TLRUN_VERSION } from "../util/version";
import { describePreprocessing, runPreprocessing, type Preprocessing } from "./preprocessing";
import { readRun, type RunFiles } from "./run-folder";

/** The file an exported folder's card is in; README.md beside it says the same for people. */
export const CARD_FILE = "model-card.json";
export const CARD_VERSION = 1;

/**
 * Everything needed to use a trained model without its run: what goes in (size, colour, resize,
 * the preprocessing formula), what comes out (classes in output order, the decision rule), how
 * good it was (test metrics with CIs) and where it came from (manifest hash, weights, versions).
 * `tlrun export` writes it beside every format; `tlrun predict` reads it back (readModelCard).
 */
export interface ModelCard {
  card_version: typeof CARD_VERSION;
  name: string;
  run_id: string;
  tlrun_version: string;
  /** The run's tlrun version, when it recorded one. */
  trained_with: string | null;
  created_at: string;
  /** Output order: probability k is classes[k]. */
  classes: string[];
  input: {
    height: number;
    width: number;
    channels: 3;
    layout: "NHWC";
    dtype: "float32";
    color_mode: "rgb" | "grayscale";
    interpolation: string;
    resize: string;
    preprocessing: Preprocessing;
  };
  /** argmax, or the binary operating point chosen on validation. */
  decision:
    | { kind: "argmax" }
    | { kind: "threshold"; positive_class: string; negative_class: string; threshold: number; rule: string; positive_index: number };
  metrics: CardMetrics | null;
  dataset: { manifest_sha256: string; counts: Record<string, Record<string, number>> | null };
  weights: { base_model: string; base_weights: string; base_cut: string; base_weights_sha256: string | null; model_weights_sha256: string | null };
  /** Set by export: the format in this folder and how to call it. */
  export?: ExportInfo;
}

export interface ExportInfo {
  format: "tfjs" | "onnx" | "savedmodel";
  /** The model file, relative to the folder. */
  file: string;
  input_name: string;
  output_name: string;
  /** What the output holds: one probability per class, or (a tfjs one-unit sigmoid head) classes[1]'s alone. */
  output: "class_probabilities" | "positive_probability";
  /** Largest |exported − tfjs| on random inputs at export time, with the batch sizes tried. */
  check?: { max_abs_diff: number; batches: number[] };
  /** savedmodel: the signature to call. */
  signature?: string;
}

export interface CardMetrics {
  split: string;
  n: number;
  accuracy: Estimate;
  macro_f1: Estimate;
  macro_auc: Estimate;
  log_loss: number | null;
  per_class: Record<string, { precision: number; recall: number; specificity: number | null; f1: number; support: number; auc: number | null }>;
  binary: { threshold: number; sensitivity: Estimate; specificity: Estimate; ppv: Estimate; npv: Estimate; auc: Estimate } | null;
  /** Bootstrap settings of the intervals; null for a run from before intervals. */
  bootstrap: EvaluationReport["bootstrap"] | null;
  warnings: string[];
}

/** The model card of a finished run folder (checked by readRun: completed, with a model). */
export function modelCard(runDir: string): ModelCard {
  return cardOf(readRun(runDir));
}

export function cardOf(run: RunFiles): ModelCard {
  const c = run.config;
  const report = run.report;
  const classes = run.manifest.classes;
  const binary = report?.binary ?? null;
  return {
    card_version: CARD_VERSION,
    name: c.name,
    run_id: run.id,
    tlrun_version: TLRUN_VERSION,
    trained_with: run.tlrunVersion ?? null,
    created_at: new Date().toISOString(),
    classes,
    input: {
      height: c.base.input_size[0],
      width: c.base.input_size[1],
      channels: 3,
      layout: "NHWC",
      dtype: "float32",
      color_mode: c.data.color_mode,
      interpolation: c.data.interpolation,
      resize: `decode (EXIF orientation applied, transparency flattened onto white), ${c.data.color_mode === "grayscale" ? "convert to ITU-R 601 luma (PIL convert('L')) and repeat it in all three channels, " : ""}then resize to exactly ${c.base.input_size[1]}x${c.base.input_size[0]} (width x height; the aspect ratio is not kept, as Keras' load_img) with ${c.data.interpolation} interpolation, antialiased when shrinking`,
      preprocessing: describePreprocessing(runPreprocessing(c, run.dir)),
    },
    decision: binary
      ? { kind: "threshold", positive_class: binary.positive_class, negative_class: binary.negative_class, threshold: binary.threshold, rule: binary.rule, positive_index: classes.indexOf(binary.positive_class) }
      : { kind: "argmax" },
    metrics: report ? cardMetrics(report) : null,
    dataset: { manifest_sha256: sha256(run.manifestBytes), counts: run.manifest.counts ?? null },
    weights: {
      base_model: c.base.model,
      base_weights: c.base.weights,
      base_cut: c.base.cut,
      base_weights_sha256: run.baseWeightsSha256 ?? null,
      model_weights_sha256: run.modelWeightsSha256 ?? null,
    },
  };
}

/** A report value as an Estimate: runs from before intervals wrote bare numbers. */
function estimate(v: Estimate | number | null | undefined): Estimate {
  if (v === null || v === undefined) return { value: null, low: null, high: null };
  return typeof v === "number" ? { value: v, low: null, high: null } : v;
}

function cardMetrics(r: EvaluationReport): CardMetrics {
  const b = r.binary;
  return {
    split: r.split,
    n: r.n,
    accuracy: estimate(r.accuracy),
    macro_f1: estimate(r.macro_f1),
    macro_auc: estimate(r.macro_auc),
    log_loss: r.log_loss ?? null,
    per_class: Object.fromEntries(Object.entries(r.per_class ?? {}).map(([k, m]) => [k, { ...m, specificity: m.specificity ?? null, auc: m.auc ?? null }])),
    binary: b
      ? { threshold: b.threshold, sensitivity: estimate(b.test.sensitivity), specificity: estimate(b.test.specificity), ppv: estimate(b.test.ppv), npv: estimate(b.test.npv), auc: estimate(b.auc) }
      : null,
    bootstrap: r.bootstrap ?? null,
    warnings: (r.warnings ?? []).map((w) => w.message),
  };
}

/**
 * The card of an exported folder (or any folder holding model-card.json): what `tlrun predict
 * <exported dir>` needs to decode, preprocess and decide. A missing or unreadable card is a
 * usage error naming the folder.
 */
export function readModelCard(dir: string): ModelCard {
  const path = join(dir, CARD_FILE);
  if (!existsSync(path)) throw new UsageError(`${dir} holds no ${CARD_FILE}: not a folder written by 'tlrun export'`);
  let card: ModelCard;
  try {
    card = JSON.parse(readFileSync(path, "utf8")) as ModelCard;
  } catch (err) {
    throw new UsageError(`${path} is not valid JSON: ${(err as Error).message}`);
  }
  const missing = ["classes", "input", "decision"].filter((k) => !(k in card));
  if (card.card_version !== CARD_VERSION || missing.length) {
    throw new UsageError(`${path} is not a tlrun model card of version ${CARD_VERSION}${missing.length ? ` (missing ${missing.join(", ")})` : ""}`);
  }
  return card;
}
