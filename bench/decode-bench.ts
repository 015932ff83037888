/**
 * Loader throughput: decode + resize (+ augment) + preprocess into float batches, exactly as the
 * extract and fine-tune stages consume them. A cold pass decodes every file; a warm pass is a
 * later epoch, served from the decoded-pixel cache when it is on.
 */
import type { AugmentConfig } from "../src/config/types";
import { clearPixelCache, configurePixelCache } from "../src/data/decode";
import { batches } from "../src/data/loader";
import { EMOJI_DIR, listImages } from "./common";

/** The quickstart's augmentation. */
const AUG: AugmentConfig = { horizontal_flip: false, vertical_flip: false, rotation: 10, zoom: 0.1, shift: 0.05, brightness: 0.1, contrast: 0, feature_copies: 2, fine_tune_views: 0 };

export async function decodeRate(size: number, augment: boolean, pixelCache: boolean): Promise<Record<string, number>> {
  const items = listImages(EMOJI_DIR);
  const prev = configurePixelCache({ maxBytes: pixelCache ? 256 * 2 ** 20 : 0 });
  clearPixelCache();
  const pass = async (epoch: number): Promise<number> => {
    const t0 = performance.now();
    let n = 0;
    const opts = { size: [size, size] as [number, number], colorMode: "rgb" as const, maxPixels: 1e8, interpolation: "bilinear" as const, preprocessing: "tf" as const, batchSize: 32, reuseBuffers: true };
    for await (const b of batches(items, { ...opts, augment: augment ? { cfg: AUG, seed: 7, epoch } : undefined })) n += b.n;
    return n / ((performance.now() - t0) / 1000);
  };
  try {
    const cold = await pass(0);
    const warm = await pass(1);
    return { cold_img_per_s: cold, warm_img_per_s: warm, images: items.length };
  } finally {
    clearPixelCache();
    configurePixelCache(prev);
  }
}
