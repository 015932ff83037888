/**
 * The generated folder the folder section runs on: N images in the emoji set's 9 classes, JPEG
 * and PNG mixed, 128–512 px, the kind of folder a user brings. Generating 10k images takes
 * minutes, so each folder is kept under bench/.data (gitignored), keyed by N and seed; it is
 * written beside its final name and renamed into place, so a killed generation is never reused.
 */
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import { EMOJI_DIR, ROOT, listImages } from "./common";
import { generateImages } from "./gen-images";
import { pidAlive } from "../src/util/pid";

export const FOLDER_DATA = join(ROOT, "bench", ".data");

/** The shape every generated folder has; part of the folder's name so a change regenerates it. */
const SHAPE = { minSize: 128, maxSize: 513, jpegShare: 0.5 };
const SHAPE_TAG = "v1";

/** The folder of `count` generated images for `seed`, generated on first use; `generated` says whether this call made it. */
export async function generatedFolder(count: number, seed: number): Promise<{ dir: string; generated: boolean; seconds: number }> {
  const dir = join(FOLDER_DATA, `folder-${SHAPE_TAG}-${count}-seed${seed}`);
  if (existsSync(dir)) return { dir, generated: false, seconds: 0 };
  mkdirSync(FOLDER_DATA, { recursive: true });
  removeDeadPartials();
  const partial = `${dir}.partial-${process.pid}`;
  rmSync(partial, { recursive: true, force: true });
  const t0 = performance.now();
  await generateImages(listImages(EMOJI_DIR), partial, count, { seed, ...SHAPE });
  renameSync(partial, dir);
  return { dir, generated: true, seconds: (performance.now() - t0) / 1000 };
}

/** Half-written folders of generations that were killed (their process is gone). */
function removeDeadPartials(): void {
  for (const name of readdirSync(FOLDER_DATA)) {
    const m = /\.partial-(\d+)$/.exec(name);
    if (m && !pidAlive(Number(m[1]))) rmSync(join(FOLDER_DATA, name), { recursive: true, force: true });
  }
}

