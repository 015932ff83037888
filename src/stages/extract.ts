import { join } from "node:path";
import { FeatureWriter } from "../cache/features";
import type { PipelineConfig } from "../config/types";
import { warmPixelCache, type DecodeOptions } from "../data/decode";
import { batches } from "../data/loader";
import type { Manifest } from "../data/manifest";
import { featureExtractor, type FeatureExtractor } from "../models/graph";
import { poolSettings } from "../models/onnx/workers";
import { spatialHead } from "../models/zoo/attention-vgg";
import type { ModelArtifacts } from "../models/source";
import { writeFileAtomic } from "../util/atomic";
import { deriveSeed } from "../util/rng";
import { readManifest } from "./prepare";
import { formatSeconds } from "../executor/progress";
import { input, type Stage, type StageContext } from "./types";

/** Layout of an extract entry: `plain.f32` for every image, `aug-<c>.f32` for train images. */
export interface FeatureIndex {
  /** Channels of the base's feature map; each row holds [avg pooled | max pooled]. */
  dim: number;
  /**
   * [height, width] when each row holds the whole feature map (HWC) instead of pooled vectors:
   * for a head that pools by itself, such as attention_vgg16's attention-gated pooling.
   */
  spatial?: [number, number];
  rows: number;
  trainRows: number;
  copies: number;
}

export const FEATURE_INDEX = "features.json";

/** The preprocessing mode in force: the config's, or the base model's own for `auto`. */
export function resolvePreprocessing(config: PipelineConfig, a: ModelArtifacts): "tf" | "caffe" | "torch" | "none" {
  return config.data.preprocessing === "auto" ? a.preprocessing : config.data.preprocessing;
}

export function augmentEnabled(c: PipelineConfig["augment"]): boolean {
  return c.horizontal_flip || c.vertical_flip || c.rotation > 0 || c.zoom > 0 || c.shift > 0 || c.brightness > 0 || c.contrast > 0;
}

/** How the config decodes an image for the base (before augmentation and preprocessing). */
function decodeOptions(config: PipelineConfig): DecodeOptions {
  return { size: config.base.input_size, colorMode: config.data.color_mode, maxPixels: config.data.max_pixels, interpolation: config.data.interpolation };
}

/** Loader options shared by every stage that feeds images to the base. */
export function imageOptions(ctx: StageContext, batchSize: number) {
  return {
    ...decodeOptions(ctx.config),
    preprocessing: resolvePreprocessing(ctx.config, ctx.artifacts()),
    batchSize,
    reuseBuffers: true, // every stage is done with a batch (a tensor made, rows computed, or the batch copied to an inference worker) before asking for the next
  };
}

/**
 * Run `base` over images and append their feature rows in order. Up to `inFlight` batches are
 * with the inference workers at once while the loader prepares the next.
 */
async function featuresFor(
  ctx: StageContext, base: FeatureExtractor, inFlight: number, items: Array<{ abs: string }>, writer: FeatureWriter,
  label: string, augment?: { cfg: PipelineConfig["augment"]; seed: number; epoch: number },
): Promise<void> {
  let done = 0;
  const started = performance.now();
  const queue: Array<{ rows: Promise<Float32Array>; n: number }> = [];
  const settle = async (): Promise<void> => {
    const { rows, n } = queue.shift()!;
    writer.append(await rows);
    done += n;
    const rate = done / ((performance.now() - started) / 1000);
    ctx.progress(`${label} ${done}/${items.length} images, ${rate.toFixed(1)} img/s, ETA ${formatSeconds((items.length - done) / rate)}`);
  };
  try {
    for await (const batch of batches(items, { ...imageOptions(ctx, 32), augment })) {
      ctx.checkAbort();
      const rows = base.rowsAsync(batch.x, batch.n); // copies batch.x, which the loader refills next
      rows.catch(() => undefined); // awaited in order by settle; this only keeps a later failure from being "unhandled" meanwhile
      queue.push({ rows, n: batch.n });
      if (queue.length >= inFlight) await settle();
    }
    while (queue.length > 0) await settle();
  } finally {
    queue.length = 0;
  }
}

/** extract: run the frozen base once over every image and cache pooled features as float32. */
export const extract: Stage = {
  name: "extract",
  needsTf: true,
  async run(ctx) {
    const manifest: Manifest = readManifest(input(ctx, "prepare").dir);
    const all = manifest.items.map((it) => ({ abs: join(ctx.dataDir, it.rel) }));
    const workers = poolSettings();
    warmPixelCache(all.map((it) => it.abs), decodeOptions(ctx.config)); // decodes while the model loads and compiles
    const a = ctx.artifacts();
    const [h, w] = ctx.config.base.input_size;
    const base = await featureExtractor(a, ctx.config.base.cut, [h, w], { batch: workers.batch, spatial: spatialHead(ctx.config), workers });
    const inFlight = Math.max(1, workers.workers);
    try {
      const shape = base.featureShape;
      const dim = shape[shape.length - 1]!;
      const spatial = spatialHead(ctx.config) ? ([shape[0]!, shape[1]!] as [number, number]) : undefined;
      const width = spatial ? spatial[0] * spatial[1] * dim : 2 * dim;
      const train = manifest.items.filter((it) => it.split === "train").map((it) => ({ abs: join(ctx.dataDir, it.rel) }));
      const started = performance.now();
      const plain = new FeatureWriter(join(ctx.out, "plain.f32"), width);
      try {
        await featuresFor(ctx, base, inFlight, all, plain, "features");
      } finally {
        plain.close();
      }
      const plainSeconds = (performance.now() - started) / 1000;
      const copies = augmentEnabled(ctx.config.augment) ? ctx.config.augment.feature_copies : 0;
      for (let c = 1; c <= copies; c++) {
        const writer = new FeatureWriter(join(ctx.out, `aug-${c}.f32`), width);
        try {
          const seed = deriveSeed(ctx.config.seed, "extract-augment");
          await featuresFor(ctx, base, inFlight, train, writer, `augmented view ${c}/${copies}`, { cfg: ctx.config.augment, seed, epoch: c });
        } finally {
          writer.close();
        }
      }
      const index: FeatureIndex = { dim, rows: all.length, trainRows: train.length, copies, ...(spatial ? { spatial } : {}) };
      writeFileAtomic(join(ctx.out, FEATURE_INDEX), JSON.stringify(index));
      return { info: { ...index, images_per_second: all.length / plainSeconds, forward: base.runner, weights_sha256: a.weightsSha256 } };
    } finally {
      base.dispose();
    }
  },
};
