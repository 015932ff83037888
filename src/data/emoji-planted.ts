import { copyFile, mkdir, readFile, readdir, rename, rm, stat, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import sharp from "sharp";
import { TlrunError } from "../errors";
import { tempPathFor } from "../util/atomic";
import { extraDir } from "../util/extras";
import { DATASET_MARKER, listImages } from "./emoji";
import { plantProblems, type PlantedPlan, type PlantedTransform, type Placed } from "./planted-plan";
import { mapLimit } from "./pool";

/**
 * `tlrun dataset emoji-planted`: the google emoji in train/ val/ test/ folders with problems
 * planted where the truth is known (issue #22 §3's must-show), so an audit can be scored:
 * near-duplicate copies of training images in val and test, exact copies under new names, and
 * flipped training labels. planted.json holds the truth; docs/audit.md describes the set.
 */

export const PLANTED_TRUTH = "planted.json";
/** Bumped when what is planted changes, so a rebuilt folder is not taken for the old one. */
const RECIPE_VERSION = 1;

export interface PlantedDatasetOptions {
  out: string;
  seed?: number;
  /** Side of the written images; the package's 64 px images are enlarged (lanczos3). */
  size?: number;
}

/** planted.json: paths relative to the dataset folder. */
export interface PlantedTruth {
  recipe: { source: string; version: string; seed: number; size: number; recipe: number };
  images: number;
  near: Array<{ original: string; copy: string; transforms: PlantedTransform[] }>;
  exact: Array<{ original: string; copy: string; across: boolean }>;
  flipped: Array<{ path: string; label: string; true_label: string }>;
}

export const PLANT_DEFAULTS = { seed: 7, size: 128, near: 80, exact: 30, flipShare: 0.03, split: { train: 0.7, val: 0.15 } };

/** Build the planted dataset beside `out` and rename it into place; a rerun with the same recipe returns early. */
export async function buildPlantedDataset(opts: PlantedDatasetOptions): Promise<PlantedTruth> {
  const seed = opts.seed ?? PLANT_DEFAULTS.seed;
  const size = opts.size ?? PLANT_DEFAULTS.size;
  if (!Number.isInteger(size) || size < 32 || size > 1024) throw new TlrunError(`planted image size must be an integer from 32 to 1024, got ${size}`);
  const pkgDir = extraDir("emoji-datasource-google");
  const version = (JSON.parse(await readFile(join(pkgDir, "package.json"), "utf8")) as { version: string }).version;
  const recipe = { source: "emoji-datasource-google", version, seed, size, recipe: RECIPE_VERSION };
  const out = resolve(opts.out);
  const existing = await readTruth(out);
  if (existing && JSON.stringify(existing.recipe) === JSON.stringify(recipe)) return existing;
  if (!existing && (await nonEmpty(out))) throw new TlrunError(`${out} already exists and was not written by 'tlrun dataset emoji-planted'\n  hint: choose another --out, or delete the folder first`);

  const sources = (await listImages(pkgDir, "google", false)).sort((a, b) => (a.cls === b.cls ? (a.name < b.name ? -1 : 1) : a.cls < b.cls ? -1 : 1));
  const plan = plantProblems(sources, { ...PLANT_DEFAULTS, seed });
  const tmp = tempPathFor(out);
  try {
    await writePlanted(plan, tmp, size);
    const truth = truthOf(plan, recipe);
    await writeFile(join(tmp, PLANTED_TRUTH), formatTruth(truth));
    await writeFile(join(tmp, DATASET_MARKER), JSON.stringify({ ...recipe, total: truth.images }, null, 2) + "\n");
    await mkdir(dirname(out), { recursive: true });
    await rm(out, { recursive: true, force: true }); // empty, or a planted set of another recipe
    await rename(tmp, out);
    return truth;
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
}

const rel = (p: { split: string; folder: string }, name: string): string => `${p.split}/${p.folder}/${name}`;

async function writePlanted(plan: PlantedPlan, dir: string, size: number): Promise<void> {
  for (const p of plan.placed) await mkdir(join(dir, p.split, p.folder), { recursive: true });
  const base = (p: Placed) => sharp(p.src).resize(size, size, { kernel: "lanczos3" }).flatten({ background: "#ffffff" });
  await mapLimit(plan.placed, 8, (p) => base(p).png().toFile(join(dir, rel(p, p.name))).then(() => undefined));
  await mapLimit(plan.near, 8, async (n) => {
    const p = plan.placed[n.original]!;
    const png = await base(p).png().toBuffer();
    await writeFile(join(dir, rel({ split: n.split, folder: p.folder }, n.name)), await applyTransforms(png, size, n.transforms));
  });
  await mapLimit(plan.exact, 8, async (e) => {
    const p = plan.placed[e.original]!;
    await copyFile(join(dir, rel(p, p.name)), join(dir, rel({ split: e.split, folder: p.folder }, e.name)));
  });
}

/** Crop, resize and JPEG-encode `png` (a `size`-px square) as `transforms` say, in that order. */
export async function applyTransforms(png: Buffer, size: number, transforms: readonly PlantedTransform[]): Promise<Buffer> {
  let img = sharp(png);
  let side = size;
  for (const t of transforms) {
    if (t.kind === "crop") {
      const cut = Math.max(1, Math.round(side * t.fraction));
      img = sharp(await img.extract({ left: Math.round(cut * t.left), top: Math.round(cut * t.top), width: side - cut, height: side - cut }).png().toBuffer());
      side -= cut;
    } else if (t.kind === "resize") {
      side = Math.max(8, Math.round(size * t.scale));
      img = sharp(await img.resize(side, side, { kernel: "lanczos3" }).png().toBuffer());
    }
  }
  const jpeg = transforms.find((t): t is Extract<PlantedTransform, { kind: "jpeg" }> => t.kind === "jpeg");
  return jpeg ? img.jpeg({ quality: jpeg.quality }).toBuffer() : img.png().toBuffer();
}

function truthOf(plan: PlantedPlan, recipe: PlantedTruth["recipe"]): PlantedTruth {
  const path = (i: number): string => rel(plan.placed[i]!, plan.placed[i]!.name);
  return {
    recipe,
    images: plan.placed.length + plan.near.length + plan.exact.length,
    near: plan.near.map((n) => ({ original: path(n.original), copy: rel({ split: n.split, folder: plan.placed[n.original]!.folder }, n.name), transforms: n.transforms })),
    exact: plan.exact.map((e) => ({ original: path(e.original), copy: rel({ split: e.split, folder: plan.placed[e.original]!.folder }, e.name), across: e.split !== plan.placed[e.original]!.split })),
    flipped: plan.flipped.map((i) => ({ path: path(i), label: plan.placed[i]!.folder, true_label: plan.placed[i]!.cls })),
  };
}

/** One entry a line, so the truth reads (and diffs) as a list. */
function formatTruth(t: PlantedTruth): string {
  const list = (rows: unknown[]): string => `[\n${rows.map((r) => `  ${JSON.stringify(r)}`).join(",\n")}\n ]`;
  return `{\n "recipe": ${JSON.stringify(t.recipe)},\n "images": ${t.images},\n "near": ${list(t.near)},\n "exact": ${list(t.exact)},\n "flipped": ${list(t.flipped)}\n}\n`;
}

async function readTruth(out: string): Promise<PlantedTruth | undefined> {
  try {
    return JSON.parse(await readFile(join(out, PLANTED_TRUTH), "utf8")) as PlantedTruth;
  } catch {
    return undefined; // absent or unreadable: not ours
  }
}

async function nonEmpty(dir: string): Promise<boolean> {
  const st = await stat(dir).catch(() => undefined);
  if (!st) return false;
  if (!st.isDirectory()) throw new TlrunError(`${dir} exists and is not a folder\n  hint: choose another --out`);
  return (await readdir(dir)).length > 0;
}
