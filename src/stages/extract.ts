import { join } from "node:path";
import { augmentEnabled } from "../config/augment";
import { FeatureWriter } from "../cache/features";
import type { PipelineConfig } from "../config/types";
import { warmPixelCache, type DecodeOptions } from "../data/decode";
import { batches } from "../data/loader";
import type { Manifest } from "../data/manifest";
import { headDepthsOf } from "../models/head-depths";
import { featureExtractor, type FeatureExtractor } from "../models/graph";
import { poolSettings } from "../models/onnx/workers";
import { spatialHead } from "../training/attention-head";
import type { ModelArtifacts } from "../models/source";
import { writeFileAtomic } from "../util/atomic";
import { deriveSeed } from "../util/rng";
import { readManifest } from "./prepare";
import { Eta } from "../util/progress";
import { input, type Stage, type StageContext } from "./types";
import { chunkImages, imageBytes, viewAugment, viewOrder, viewRuns, type ViewDraws, type ViewRow } from "./view-order";
import { inOrder } from "../util/in-order";

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
  /**
   * With head.depths: the layers read below the cut and each one's channels, the cut's last.
   * Each half of a row then joins every depth's pooled vector, shallow to deep, and `dim` is their sum.
   */
  depths?: { layers: string[]; dims: number[] };
}

export const FEATURE_INDEX = "features.json";

/** The preprocessing mode in force: the config's, or the base model's own for `auto`. */
export function resolvePreprocessing(config: PipelineConfig, a: ModelArtifacts): "tf" | "caffe" | "torch" | "none" {
  return config.data.preprocessing === "auto" ? a.preprocessing : config.data.preprocessing;
}

export { augmentEnabled };

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
 * Run `base` over `rows` and append each row's features to its file, in order. Up to `inFlight`
 * batches are with the inference workers at once while the loader prepares the next; one stream
 * for every file, so the workers never wait for a pass to drain.
 */
async function featuresFor(
  ctx: StageContext, base: FeatureExtractor, inFlight: number, rows: ViewRow[], writers: FeatureWriter[], draws: ViewDraws,
): Promise<void> {
  let done = 0;
  const eta = new Eta(rows.length);
  const views = writers.length - 1;
  const what = views > 0 ? ` (with ${views} augmented view${views > 1 ? "s" : ""} of each training image)` : "";
  await inOrder(
    batches(rows, { ...imageOptions(ctx, 32), augmentFor: viewAugment(rows, draws) }), inFlight,
    (batch) => base.rowsAsync(batch.x, batch.n), // copies batch.x, which the loader refills next
    (features, { indices }) => {
      const width = features.length / indices.length;
      for (const [from, to, view] of viewRuns(rows, indices)) writers[view]!.append(features.subarray(from * width, to * width));
      done += indices.length;
      eta.update(done);
      ctx.progress([`features ${done}/${rows.length}${what}`, ...eta.parts("img/s")].join(", "));
    },
    () => ctx.checkAbort(),
  );
}

/** extract: run the frozen base once over every image and cache pooled features as float32. */
export const extract: Stage = {
  name: "extract",
  needsTf: true,
  async run(ctx) {
    const manifest: Manifest = readManifest(input(ctx, "prepare").dir);
    const items = manifest.items.map((it) => ({ abs: join(ctx.dataDir, it.rel), train: it.split === "train" }));
    const workers = poolSettings();
    // the base loads and compiles before the first batch: on a loaded machine, tens of seconds with no count to show
    ctx.note(`loading and compiling ${ctx.config.base.model}`);
    warmPixelCache(items.map((it) => it.abs), decodeOptions(ctx.config)); // decodes while the model loads and compiles
    const a = ctx.artifacts();
    const [h, w] = ctx.config.base.input_size;
    const depths = headDepthsOf(a, ctx.config.base.cut, ctx.config.head.depths);
    const base = await featureExtractor(a, ctx.config.base.cut, [h, w], { batch: workers.batch, spatial: spatialHead(ctx.config), depths, workers });
    const inFlight = Math.max(1, workers.workers);
    try {
      const shape = base.featureShape;
      const dim = shape[shape.length - 1]!;
      const spatial = spatialHead(ctx.config) ? ([shape[0]!, shape[1]!] as [number, number]) : undefined;
      const width = spatial ? spatial[0] * spatial[1] * dim : 2 * dim;
      const copies = augmentEnabled(ctx.config.augment) ? ctx.config.augment.feature_copies : 0;
      const rows = viewOrder(items, copies, chunkImages(items.length, copies, imageBytes(ctx.config)));
      const writers = [new FeatureWriter(join(ctx.out, "plain.f32"), width)];
      for (let c = 1; c <= copies; c++) writers.push(new FeatureWriter(join(ctx.out, `aug-${c}.f32`), width));
      const started = performance.now();
      try {
        await featuresFor(ctx, base, inFlight, rows, writers, { cfg: ctx.config.augment, seed: deriveSeed(ctx.config.seed, "extract-augment") });
      } finally {
        for (const wr of writers) wr.close();
      }
      const seconds = (performance.now() - started) / 1000;
      const index: FeatureIndex = {
        dim, rows: items.length, trainRows: items.filter((it) => it.train).length, copies,
        ...(spatial ? { spatial } : {}), ...(base.depthDims ? { depths: { layers: depths, dims: base.depthDims } } : {}),
      };
      writeFileAtomic(join(ctx.out, FEATURE_INDEX), JSON.stringify(index));
      return { info: { ...index, images_per_second: rows.length / seconds, forward: base.runner, weights_sha256: a.weightsSha256 } };
    } finally {
      base.dispose();
    }
  },
};
