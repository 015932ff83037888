import * as tf from "@tensorflow/tfjs";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { readFeatures } from "../cache/features";
import type { Manifest } from "../data/manifest";
import type { Batch } from "../training/fit";
import { targets } from "../training/head";
import { exampleWeights } from "../training/class-weight";
import { FEATURE_INDEX, type FeatureIndex } from "./extract";

/** Cached features of one split, pooled the way the head asks (or whole maps for a spatial head). */
export interface FeatureSet {
  x: Float32Array;
  labels: number[];
  /** Values per row. */
  dim: number;
  /** The shape of one row as the head takes it: [dim], or [h, w, c] for a spatial head. */
  shape: number[];
}

/** The extract entry's features, split by the manifest and pooled as `pooling` says. */
export class FeatureStore {
  readonly index: FeatureIndex;
  private readonly plain: Float32Array;
  private readonly copies: Float32Array[] = [];

  constructor(dir: string, private readonly manifest: Manifest, private readonly pooling: "avg" | "max") {
    this.index = JSON.parse(readFileSync(join(dir, FEATURE_INDEX), "utf8")) as FeatureIndex;
    const width = this.width();
    // each block is checked against the entry's digests as it is read (CacheDamagedError otherwise)
    this.plain = readFeatures(dir, "plain.f32", width);
    for (let c = 1; c <= this.index.copies; c++) this.copies.push(readFeatures(dir, `aug-${c}.f32`, width));
    if (this.plain.length !== this.index.rows * width) throw new Error("plain.f32 does not match features.json");
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

  private pick(source: Float32Array, rows: number[]): Float32Array {
    if (this.index.spatial) {
      const width = this.width();
      const out = new Float32Array(rows.length * width);
      rows.forEach((r, i) => out.set(source.subarray(r * width, (r + 1) * width), i * width));
      return out;
    }
    const { dim } = this.index;
    const offset = this.pooling === "avg" ? 0 : dim;
    const out = new Float32Array(rows.length * dim);
    rows.forEach((r, i) => out.set(source.subarray(r * 2 * dim + offset, r * 2 * dim + offset + dim), i * dim));
    return out;
  }

  /** Un-augmented features of a split. */
  split(name: "train" | "val" | "test"): FeatureSet {
    const rows: number[] = [];
    const labels: number[] = [];
    this.manifest.items.forEach((it, i) => {
      if (it.split === name) rows.push(i), labels.push(it.label);
    });
    return { x: this.pick(this.plain, rows), labels, dim: this.rowShape.reduce((a, b) => a * b, 1), shape: this.rowShape };
  }

  /** Train features for an epoch: the plain view or one of the cached augmented views, in turn. */
  trainView(epoch: number): FeatureSet {
    const view = epoch % (this.copies.length + 1);
    if (view === 0) return this.split("train");
    const labels = this.manifest.items.filter((it) => it.split === "train").map((it) => it.label);
    return { x: this.pick(this.copies[view - 1]!, labels.map((_, i) => i)), labels, dim: this.rowShape.reduce((a, b) => a * b, 1), shape: this.rowShape };
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
    const x = new Float32Array(idx.length * set.dim);
    idx.forEach((r, i) => x.set(set.x.subarray(r * set.dim, (r + 1) * set.dim), i * set.dim));
    const labels = idx.map((r) => set.labels[r]!);
    yield { x: tf.tensor(x, [idx.length, ...set.shape]), y: targets(labels, classes, sigmoid), ...(weights ? { w: exampleWeights(labels, weights) } : {}), n: idx.length };
  }
}

/** Class probabilities (n × k) of `predict` over a feature set, in batches. */
export function predictProbs(predict: (x: tf.Tensor) => tf.Tensor, set: FeatureSet, classes: number): Float32Array {
  const out = new Float32Array(set.labels.length * classes);
  for (let start = 0; start < set.labels.length; start += 256) {
    const n = Math.min(256, set.labels.length - start);
    const probs = tf.tidy(() => toClassProbs(predict(tf.tensor(set.x.subarray(start * set.dim, (start + n) * set.dim), [n, ...set.shape]))));
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
