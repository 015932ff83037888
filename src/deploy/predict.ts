/**
 * The streaming loop of `tlrun predict`: paths in, one probability row per image out, as each
 * batch finishes. Paths are pulled from the caller's iterator a chunk at a time and each row is
 * handed on at once, so memory stays flat however many files there are. Images decode with the
 * training loader (same decoder, resize and preprocessing) and run on the inference workers
 * with batches in flight, as the extract stage does.
 */
import { warmPixelCache } from "../data/decode";
import { batches } from "../data/loader";
import { poolSettings } from "../models/onnx/workers";
import { classProbs, loadClassifier } from "./classifier";
import type { RunModel } from "./load-run";

/** One scored image: its probabilities in the run's class order. */
export interface Prediction {
  path: string;
  probs: Float32Array;
}

export interface PredictOptions {
  /** Images per loader batch (default 32). */
  batchSize?: number;
  onRow(p: Prediction): void;
  /** A file that did not decode, with the decoder's reason; the rest are still scored. */
  onSkip(path: string, reason: string): void;
  /** After every batch: images scored and skipped so far. */
  onProgress?(scored: number, skipped: number): void;
}

export interface PredictResult {
  scored: number;
  skipped: number;
  /** How the forward pass ran ("onnxruntime ..." or "eager: <why>"). */
  runner: string;
  seconds: number;
  /** Of `seconds`, loading and compiling the model before the first batch. */
  setupSeconds: number;
}

/** Paths pulled per loader stream; the inference queue carries over from one chunk to the next. */
const CHUNK = 2048;

function take(it: Iterator<string>, n: number): string[] {
  const out: string[] = [];
  while (out.length < n) {
    const r = it.next();
    if (r.done) break;
    out.push(r.value);
  }
  return out;
}

/** Score every path `paths` yields with the run's model, streaming rows to `opts.onRow` in input order. */
export async function predictFiles(run: RunModel, paths: Iterable<string>, opts: PredictOptions): Promise<PredictResult> {
  const started = performance.now();
  const it = paths[Symbol.iterator]();
  let chunk = take(it, CHUNK);
  const [h, w] = run.decode.size;
  const k = run.classes.length;
  const pool = poolSettings();
  warmPixelCache(chunk, run.decode); // decodes while the model loads and compiles
  const model = await loadClassifier(run, pool.batch, pool);
  const setupSeconds = (performance.now() - started) / 1000;
  const queue: Array<{ out: Promise<Float32Array[]>; paths: string[]; failed: Set<number> }> = [];
  let scored = 0;
  let skipped = 0;
  const settle = async (): Promise<void> => {
    const { out, paths: rows, failed } = queue.shift()!;
    const probs = classProbs((await out)[0]!, rows.length, k);
    rows.forEach((path, r) => {
      if (failed.has(r)) return;
      opts.onRow({ path, probs: probs.slice(r * k, (r + 1) * k) });
      scored++;
    });
    skipped += failed.size;
    opts.onProgress?.(scored, skipped);
  };
  try {
    const inFlight = Math.max(1, pool.workers);
    while (chunk.length > 0) {
      const here = chunk;
      const loader = batches(here.map((abs) => ({ abs })), {
        ...run.decode, preprocessing: run.preprocessing, batchSize: opts.batchSize ?? 32, reuseBuffers: true,
        onBadImage: (i, reason) => opts.onSkip(here[i]!, reason),
      });
      for await (const b of loader) {
        const out = model.predictHostAsync(b.x, b.n, [h, w, 3]); // copies b.x, which the loader refills next
        out.catch(() => undefined); // awaited in order by settle
        const first = b.indices[0]!;
        queue.push({ out, paths: here.slice(first, first + b.n), failed: new Set((b.failed ?? []).map((i) => i - first)) });
        if (queue.length >= inFlight) await settle();
      }
      chunk = take(it, CHUNK);
    }
    while (queue.length > 0) await settle();
  } finally {
    queue.length = 0;
    model.dispose();
  }
  return { scored, skipped, runner: model.runner, seconds: (performance.now() - started) / 1000, setupSeconds };
}
