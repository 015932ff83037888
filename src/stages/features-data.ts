import * as tf from "@tensorflow/tfjs";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { FeatureFile } from "../cache/features";
import type { Manifest } from "../data/manifest";
import type { Batch } from "../training/fit";
import { targets } from "../training/head";
import { exampleWeights } from "../training/class-weight";
import { ColumnSums } from "../util/column-sums";
import { FEATURE_INDEX, type FeatureIndex } from "./extract";

/**
 * Cached features of one split or view, pooled the way the head asks (or whole maps for a spatial
 * head), read from the extract entry's files a batch at a time: only the labels are in memory.
 */
export interface FeatureSet {
  labels: number[];
  /** Values per row. */
  dim: number;
  /** The shape of one row as the head takes it: [dim], or [h, w, c] for a spatial head. */
  shape: number[];
  /** Rows `idx` of this set (positions in it, repeats allowed): idx.length × dim values. */
  read(idx: readonly number[]): Float32Array;
}

/**
 * The extract entry's features, split by the manifest and pooled as `pooling` says. Every file it
 * uses is opened and checked block by block when it is made (FeatureFile.open), so a damaged
 * entry is found before any training; `close()` releases them.
 */
export class FeatureStore {
  readonly index: FeatureIndex;
  private readonly plain: FeatureFile;
  private readonly copies: FeatureFile[] = [];

  /** `augmented`: also open the augmented copies, for trainView (train-head); evaluate needs only the plain view. */
  constructor(dir: string, private readonly manifest: Manifest, private readonly pooling: "avg" | "max", augmented = false) {
    this.index = JSON.parse(readFileSync(join(dir, FEATURE_INDEX), "utf8")) as FeatureIndex;
    const width = this.width();
    this.plain = FeatureFile.open(dir, "plain.f32", width);
    try {
      if (this.plain.rows !== this.index.rows) throw new Error("plain.f32 does not match features.json");
      if (augmented) for (let c = 1; c <= this.index.copies; c++) this.copies.push(FeatureFile.open(dir, `aug-${c}.f32`, width));
    } catch (err) {
      this.close();
      throw err;
    }
  }

  /** Values per row on disk: [avg | max] pooled, or the whole h*w*c map. */
  private width(): number {
    const { dim, spatial } = this.index;
    return spatial ? spatial[0] * spatial[1] * dim : 2 * dim;
  }

  /** The shape of one row as the head takes it. */
  get rowShape(): number[] {
    const { dim, spatial } = this.index;
    return spatial ? [spatial[0], spatial[1], dim] : [dim];
  }

  /** The set of `rows` of `file` (its row numbers, in the set's order) with their labels. */
  private set(file: FeatureFile, rows: readonly number[], labels: number[]): FeatureSet {
    const { dim, spatial } = this.index;
    // a pooled row on disk is [avg | max]; the head takes one half
    const [from, count] = spatial ? [0, file.width] : [this.pooling === "avg" ? 0 : dim, dim];
    return { labels, dim: count, shape: this.rowShape, read: (idx) => file.read(idx.map((i) => rows[i]!), from, count) };
  }

  /** Un-augmented features of a split. */
  split(name: "train" | "val" | "test"): FeatureSet {
    const rows: number[] = [];
    const labels: number[] = [];
    this.manifest.items.forEach((it, i) => {
      if (it.split === name) rows.push(it.row ?? i), labels.push(it.label);
    });
    return this.set(this.plain, rows, labels);
  }

  /** Train features for an epoch: the plain view or one of the cached augmented views, in turn. */
  trainView(epoch: number): FeatureSet {
    if (this.copies.length !== this.index.copies) throw new Error("internal: trainView of a FeatureStore opened without its augmented copies");
    const view = epoch % (this.copies.length + 1);
    if (view === 0) return this.split("train");
    const train = this.manifest.items.filter((it) => it.split === "train");
    const labels = train.map((it) => it.label);
    // an augmented copy holds the train rows only, in prepare's manifest order (the audit's manifest says where each kept one is)
    return this.set(this.copies[view - 1]!, train.map((it, i) => it.trainRow ?? i), labels);
  }

  close(): void {
    this.plain.close();
    for (const f of this.copies) f.close();
  }
}

/**
 * Mini-batches of a feature set's rows in `order` (repeats allowed: oversampling), with
 * per-example loss weights when `weights` (per class) is given.
 */
export async function* featureBatches(
  set: FeatureSet, order: readonly number[], batchSize: number, classes: number, sigmoid: boolean, weights?: readonly number[],
): AsyncGenerator<Batch> {
  for (let start = 0; start < order.length; start += batchSize) {
    const idx = order.slice(start, start + batchSize);
    const x = set.read(idx);
    const labels = idx.map((r) => set.labels[r]!);
    yield { x: tf.tensor(x, [idx.length, ...set.shape]), y: targets(labels, classes, sigmoid), ...(weights ? { w: exampleWeights(labels, weights) } : {}), n: idx.length };
  }
}

/** Class probabilities (n × k) of `predict` over a feature set, in batches. */
export function predictProbs(predict: (x: tf.Tensor) => tf.Tensor, set: FeatureSet, classes: number): Float32Array {
  const out = new Float32Array(set.labels.length * classes);
  for (let start = 0; start < set.labels.length; start += 256) {
    const n = Math.min(256, set.labels.length - start);
    const x = set.read(Array.from({ length: n }, (_, i) => start + i));
    const probs = tf.tidy(() => toClassProbs(predict(tf.tensor(x, [n, ...set.shape]))));
    out.set(probs.dataSync(), start * classes);
    probs.dispose();
  }
  return out;
}

/** Expand a one-unit sigmoid output to two class probabilities. */
export function toClassProbs(p: tf.Tensor): tf.Tensor {
  return p.shape[1] === 1 ? tf.concat([tf.sub(1, p), p], 1) : p;
}

/** Mean cross-entropy and accuracy of probabilities against labels. */
export function lossAndAccuracy(probs: Float32Array, labels: number[], classes: number): { loss: number; accuracy: number } {
  let loss = 0;
  let correct = 0;
  labels.forEach((y, i) => {
    let best = 0;
    for (let j = 1; j < classes; j++) if (probs[i * classes + j]! > probs[i * classes + best]!) best = j;
    if (best === y) correct++;
    loss -= Math.log(Math.max(probs[i * classes + y]!, 1e-7));
  });
  return { loss: loss / Math.max(labels.length, 1), accuracy: correct / Math.max(labels.length, 1) };
}

/** Per-feature mean and variance of a feature set's rows, read a block at a time (float64 sums). */
export function featureMoments(set: FeatureSet): { mean: Float32Array; variance: Float32Array } {
  const n = set.labels.length;
  const sums = new ColumnSums(set.dim);
  for (let start = 0; start < n; start += 1024) sums.add(set.read(Array.from({ length: Math.min(1024, n - start) }, (_, i) => start + i)));
  const mean = Float32Array.from(sums.sum, (s) => s / Math.max(n, 1));
  const variance = Float32Array.from(sums.squares, (q, d) => Math.max(0, q / Math.max(n, 1) - mean[d]! * mean[d]!));
  return { mean, variance };
}
