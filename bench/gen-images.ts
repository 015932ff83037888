/**
 * Make a large class-folder dataset by augmenting the emoji set with sharp: each copy is a
 * rotation, crop and scale of an original. By default small PNGs, for the RSS benchmark; the
 * options give the folder a user brings (JPEG and PNG mixed, 128–512 px) for the folder section.
 */
import { mkdirSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import sharp from "sharp";
import { mapLimit } from "../src/data/pool";
import { Rng } from "../src/util/rng";
import type { Item } from "./common";

export interface GenerateOptions {
  seed?: number;
  /** Side of each square image, drawn uniformly from [min, max). */
  minSize?: number;
  maxSize?: number;
  /** Share of the images written as JPEG (flattened on white, as a screenshot would be); the rest are PNG. */
  jpegShare?: number;
}

export async function generateImages(src: Item[], out: string, count: number, opts: GenerateOptions = {}): Promise<number> {
  const { seed = 1, minSize = 56, maxSize = 160, jpegShare = 0 } = opts;
  const rng = new Rng(seed);
  const jobs = Array.from({ length: count }, (_, i) => ({
    from: src[i % src.length]!.abs,
    angle: rng.uniform(-30, 30),
    crop: Math.floor(rng.uniform(0, 8)),
    size: Math.floor(rng.uniform(minSize, maxSize)),
    jpeg: jpegShare > 0 && rng.uniform(0, 1) < jpegShare,
    i,
  }));
  const digits = Math.max(5, String(count - 1).length);
  await mapLimit(jobs, 8, async (j) => {
    const dir = join(out, basename(dirname(j.from)));
    mkdirSync(dir, { recursive: true });
    const s = 64 - 2 * j.crop;
    const img = sharp(j.from)
      .extract({ left: j.crop, top: j.crop, width: s, height: s })
      .rotate(j.angle, { background: { r: 0, g: 0, b: 0, alpha: 0 } })
      .resize(j.size, j.size);
    const name = `gen-${String(j.i).padStart(digits, "0")}`;
    if (j.jpeg) await img.flatten({ background: "#ffffff" }).jpeg({ quality: 85 }).toFile(join(dir, `${name}.jpg`));
    else await img.png({ compressionLevel: 1 }).toFile(join(dir, `${name}.png`));
  });
  return count;
}
