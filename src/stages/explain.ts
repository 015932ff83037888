import * as tf from "@tensorflow/tfjs";
import { resolveCut } from "../models/layers";
import { depthMaps, joinPooled } from "../models/head-depths";
import { batches, type BatchOptions } from "../data/loader";
import type { EvaluationReport } from "../evaluation/types";
import type { ModelArtifacts } from "../models/artifacts";
import { camBase } from "./grad-cam-model";
import { gradCam, type CamPooling } from "./grad-cam";
import { explainOrder, type BinaryRule } from "./explain-order";
import { writePanels, type Panel } from "./explain-panels";

/** Images per Grad-CAM pass: the backward pass through the top of the base holds its activations. */
const CAM_BATCH = 8;

export interface ExplainOptions {
  artifacts: ModelArtifacts;
  /** `base.cut` as the config has it (empty: the base's default); resolved here, after the graph-model check. */
  cut: string;
  /** `evaluate.explain.layer`: a layer of the cut base; "" explains the cut. */
  layer: string;
  inputSize: [number, number];
  /** The head as trained (fine-tune's when it ran), and how the base's map reaches it. */
  head: tf.LayersModel;
  pooling: CamPooling;
  /** head.depths resolved: layers below the cut the head also reads, pooled and joined before the cut's features. */
  depths?: readonly string[];
  /**
   * When fine-tuning ran: a model whose layers, by name, hold the fine-tuned base weights that
   * replace the pretrained ones. Fine-tune's saved `top`, or evaluate's assembled model.
   */
  weightsFrom?: tf.LayersModel;
  /** The evaluated images (absolute paths) with their labels, and the model's probabilities, n x k row by row. */
  items: Array<{ abs: string; label: number }>;
  probs: Float32Array;
  classes: string[];
  /** A binary task's positive class index and operating threshold; absent for argmax. */
  binary?: BinaryRule;
  /** How training decoded images (stages/extract.ts imageOptions); the batch size is Grad-CAM's own. */
  decode: Omit<BatchOptions, "batchSize">;
  /** The folder the panels go under (as plots/explain_<i>.png). */
  out: string;
  n: number;
}

/** Why a graph-model base gets no heat maps. */
const GRAPH_SKIPPED = "no Grad-CAM heat maps: the base is a graph model, which has no layers to take gradients through";

export interface ExplainResult {
  explain: EvaluationReport["explain"];
  /** Why no panels were drawn though some were asked for (a graph-model base has no gradients). */
  skipped?: string;
}

/**
 * Grad-CAM panels of the `n` images a reviewer should see first (explain-order.ts), written
 * under `out/plots/`: what evaluate puts in report.json's `explain`.
 */
export async function explainImages(o: ExplainOptions): Promise<ExplainResult> {
  if (o.n <= 0 || !o.items.length) return { explain: [] };
  if (o.artifacts.graph) return { explain: [], skipped: GRAPH_SKIPPED };
  const cut = resolveCut(o.artifacts, o.cut);
  if (o.depths?.length && o.layer && o.layer !== cut) return { explain: [], skipped: depthsSkipped(o.layer, cut) };
  const k = o.classes.length;
  const picks = explainOrder(o.items.map((it) => it.label), o.probs, k, o.n, o.binary);
  const cam = await camBase(o.artifacts, cut, o.inputSize, o.layer, o.weightsFrom);
  const below = o.depths?.length ? depthFeatures(cam.bottom, o.depths, o.pooling) : undefined;
  const panels: Panel[] = [];
  try {
    const [h, w] = o.inputSize;
    for await (const b of batches(picks.map((p) => o.items[p.index]!), { ...o.decode, batchSize: CAM_BATCH })) {
      const chosen = b.indices.map((i) => picks[i]!);
      const x = tf.tensor4d(b.x, [b.n, h, w, 3]);
      // A screening reviewer asks where the model saw the finding, also on a miss: a binary task's
      // maps explain the positive class; argmax explains the class predicted.
      const targets = chosen.map((p) => (o.binary ? o.binary.positive : p.predicted));
      const joined = below?.(x);
      const { maps, size } = gradCam(cam, o.head, o.pooling, x, targets, joined);
      x.dispose();
      joined?.dispose();
      const cells = size[0] * size[1];
      chosen.forEach((p, r) => panels.push({
        abs: o.items[p.index]!.abs, map: maps.slice(r * cells, (r + 1) * cells), mapSize: size, kind: p.kind,
        truth: o.classes[o.items[p.index]!.label]!, predicted: o.classes[p.predicted]!, probability: probabilityLine(o, p.index, p.predicted), layer: cam.layer, ...(o.depths?.length ? { alsoReads: o.depths.length } : {}),
        explained: o.classes[targets[r]!]!,
      }));
    }
  } finally {
    cam.dispose();
  }
  const files = await writePanels(o.out, panels, o.decode.interpolation);
  return { explain: picks.map((p, i) => ({ file: files[i]!, truth: panels[i]!.truth, predicted: panels[i]!.predicted, probability: p.probability, kind: p.kind })) };
}

/** Why a head on several depths gets no heat maps at a layer below the cut. */
function depthsSkipped(layer: string, cut: string): string {
  return `no Grad-CAM heat maps at '${layer}': the head also reads layers below the cut (head.depths), so a map is drawn at the cut '${cut}' only; leave evaluate.explain.layer out`;
}

/**
 * The pooled features of `depths` (layers of `base`, the whole base cut at the cut) joined, as
 * the head reads them before the cut's: for Grad-CAM at the cut they are constants, since
 * nothing in them depends on the cut's activations.
 */
function depthFeatures(base: tf.LayersModel, depths: readonly string[], pooling: CamPooling): (x: tf.Tensor4D) => tf.Tensor {
  const read = tf.model({ inputs: base.inputs, outputs: joinPooled(depthMaps(base, depths), pooling === "max" ? "max" : "avg") });
  return (x) => read.predict(x) as tf.Tensor;
}

/** "P(TB) = 0.12, threshold 0.35" for a binary task, "P(cat) = 0.93" for argmax. */
function probabilityLine(o: ExplainOptions, index: number, predicted: number): string {
  const k = o.classes.length;
  const shown = o.binary ? o.binary.positive : predicted;
  const p = `P(${o.classes[shown]}) = ${o.probs[index * k + shown]!.toFixed(3)}`;
  return o.binary ? `${p}, threshold ${o.binary.threshold.toFixed(3)}` : p;
}
