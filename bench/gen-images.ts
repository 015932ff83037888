/**
 * Make a large class-folder dataset by augmenting the emoji set with sharp: each copy is a
 * rotation, crop and scale of an original, written as PNG. For the 10k-image RSS benchmark.
 */
import { mkdirSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import sharp from "sharp";
import { mapLimit } from "../src/data/pool";
import { Rng } from "../src/util/rng";
import type { Item } from "./common";

export async function generateImages(src: Item[], out: string, count: number, seed = 1): Promise<number> {
  const rng = new Rng(seed);
  const jobs = Array.from({ length: count }, (_, i) => ({
    from: src[i % src.length]!.abs,
    angle: rng.uniform(-30, 30),
    crop: Math.floor(rng.uniform(0, 8)),
    size: Math.floor(rng.uniform(56, 160)),
    i,
  }));
  await mapLimit(jobs, 8, async (j) => {
    const dir = join(out, basename(dirname(j.from)));
    mkdirSync(dir, { recursive: true });
    const s = 64 - 2 * j.crop;
    await sharp(j.from)
      .extract({ left: j.crop, top: j.crop, width: s, height: s })
      .rotate(j.angle, { background: { r: 0, g: 0, b: 0, alpha: 0 } })
      .resize(j.size, j.size)
      .png({ compressionLevel: 1 })
      .toFile(join(dir, `gen-${String(j.i).padStart(5, "0")}.png`));
  });
  return count;
}
