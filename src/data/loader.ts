import { TlrunError } from "../errors";
import type { AugmentConfig, Interpolation } from "../config/types";
import { Rng, deriveSeed } from "../util/rng";
import { sampleAugment, type AugmentParams } from "./augment";
import { decodeInto } from "./decode";
import { decodeWorkersAvailable } from "./decode-pool";
import { createLimiter } from "./pool";
import type { PreprocessMode } from "./preprocess";

export interface BatchOptions {
  /** [height, width] fed to the model. */
  size: [number, number];
  colorMode: "rgb" | "grayscale";
  maxPixels: number;
  interpolation: Interpolation;
  preprocessing: PreprocessMode;
  batchSize: number;
  /** Random augmentation, repeatable per (seed, epoch, item index). Leave out for eval. */
  augment?: { cfg: AugmentConfig; seed: number; epoch: number };
  /**
   * Each item's augmentation by its index in `items`, instead of `augment`: for a stream that
   * mixes plain images and several views (extract's and fine-tune's, see
   * src/stages/view-order.ts). See augmentParams.
   */
  augmentFor?: (index: number) => AugmentParams | undefined;
  /** Batches decoded ahead of the one being consumed (default 2). */
  prefetch?: number;
  /** Images decoded at once (default 16), on the decode workers and sharp's thread pool. */
  concurrency?: number;
  /**
   * Fill the same few float buffers over and over instead of a fresh one per batch, so the
   * consumer must be done with a batch's `x` when it asks for the next batch. The stages are (each
   * makes a tensor of the batch, or extract its feature rows, at once) and set this: a fresh
   * n x h x w x 3 buffer per batch cost more main-thread time (page faults, garbage collection)
   * than the JS decoder did.
   */
  reuseBuffers?: boolean;
  /**
   * Skip an image that does not decode instead of ending the stream: its slot is zero-filled,
   * its index listed in the batch's `failed`, and this told why (the decoder's one-line reason).
   * For `tlrun predict`, where one bad file among many is reported and the rest still scored.
   */
  onBadImage?: (index: number, reason: string) => void;
}

/** One batch: `x` is [n, h, w, 3] float32 (always three channels); `indices` point into `items`. */
export interface Batch {
  x: Float32Array;
  n: number;
  indices: number[];
  /** Indices (into `items`) that did not decode; only with `onBadImage`. Their rows are zeros. */
  failed?: number[];
}

/**
 * Stream `items` as preprocessed float batches, in order. Decoding runs ahead by `prefetch`
 * batches with bounded concurrency. A file that no longer decodes throws a TlrunError naming it.
 * With decode workers the batches live in shared memory, which the workers fill directly
 * (decodeInto); consumers treat them as any Float32Array.
 */
export async function* batches(items: ReadonlyArray<{ abs: string }>, opts: BatchOptions): AsyncGenerator<Batch> {
  const [h, w] = opts.size;
  const bs = Math.max(1, Math.floor(opts.batchSize));
  const count = Math.ceil(items.length / bs);
  const limit = createLimiter(opts.concurrency ?? 16);
  const state = { stopped: false };
  const pending: Array<Promise<Batch>> = [];
  const ahead = Math.max(0, opts.prefetch ?? 2);
  // batch b + ahead + 2 starts when the consumer asks for batch b + 1, so it can take b's buffer
  const ring: Float32Array[] = [];
  const floats = decodeWorkersAvailable() ? (n: number) => new Float32Array(new SharedArrayBuffer(n * 4)) : (n: number) => new Float32Array(n);
  const buffer = (b: number, n: number): Float32Array => {
    if (!opts.reuseBuffers) return floats(n * h * w * 3);
    const full = (ring[b % (ahead + 2)] ??= floats(bs * h * w * 3));
    return full.subarray(0, n * h * w * 3);
  };
  const start = (b: number): void => {
    const from = b * bs;
    const to = Math.min(items.length, from + bs);
    const p = loadBatch(items, from, to, buffer(b, to - from), opts, h, w, limit, state);
    p.catch(() => undefined); // awaited below in order; this only keeps a prefetched failure from being "unhandled"
    pending.push(p);
  };
  let next = 0;
  try {
    for (; next < Math.min(count, ahead + 1); next++) start(next);
    for (let b = 0; b < count; b++) {
      const batch = await pending.shift()!;
      if (next < count) start(next++);
      yield batch;
    }
  } finally {
    state.stopped = true; // queued decodes of an abandoned generator are skipped
  }
}

async function loadBatch(
  items: ReadonlyArray<{ abs: string }>,
  from: number,
  to: number,
  x: Float32Array,
  opts: BatchOptions,
  h: number,
  w: number,
  limit: ReturnType<typeof createLimiter>,
  state: { stopped: boolean },
): Promise<Batch> {
  const n = to - from;
  const per = h * w * 3;
  const indices = Array.from({ length: n }, (_, i) => from + i);
  const failed: number[] = [];
  const bad = opts.onBadImage;
  await Promise.all(
    indices.map((index, slot) =>
      limit(async () => {
        if (state.stopped) return;
        if (!bad) return loadInto(items[index]!.abs, index, opts, h, w, x, slot * per);
        try {
          await loadInto(items[index]!.abs, index, opts, h, w, x, slot * per);
        } catch (err) {
          if (!(err instanceof TlrunError)) throw err;
          x.fill(0, slot * per, (slot + 1) * per);
          failed.push(index);
          bad(index, err.message.split("\n")[0]!);
        }
      }),
    ),
  );
  return bad ? { x, n, indices, failed: failed.sort((a, b) => a - b) } : { x, n, indices };
}

/**
 * The augmentation of item `index` in view (or epoch) `epoch` of a stream seeded with `seed`:
 * what `batches` draws for `augment: { cfg, seed, epoch }`.
 */
export function augmentParams(cfg: AugmentConfig, seed: number, epoch: number, index: number): AugmentParams {
  return sampleAugment(new Rng(deriveSeed(seed, `augment:${epoch}:${index}`)), cfg);
}

/** Decode (and augment) one image and write its floats into `x` from `offset`. */
function loadInto(abs: string, index: number, opts: BatchOptions, h: number, w: number, x: Float32Array, offset: number): Promise<void> {
  const a = opts.augment;
  const augment = opts.augmentFor ? opts.augmentFor(index) : a && augmentParams(a.cfg, a.seed, a.epoch, index);
  const decode = { size: [h, w] as [number, number], colorMode: opts.colorMode, maxPixels: opts.maxPixels, interpolation: opts.interpolation };
  return decodeInto(abs, decode, { out: x, offset, preprocessing: opts.preprocessing, augment });
}
