import { copyFile, mkdir, readFile, readdir, rename, rm, stat, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import sharp from "sharp";
import { TlrunError } from "../errors";
import { tempPathFor } from "../util/atomic";
import { extraDir } from "../util/extras";
import { Rng } from "../util/rng";
import { mapLimit } from "./pool";

export type EmojiVendor = "google" | "twitter";

export interface EmojiDatasetOptions {
  vendor: EmojiVendor;
  out: string;
  /** Side in pixels; the package ships 64 px images, other sizes are resized from them. */
  size?: number;
  /** Also copy the skin-tone variants (about 1,900 more images, mostly "people-body"). */
  includeSkinTones?: boolean;
  /** Two classes instead of one per category: this category against a seeded sample of the rest. */
  oneVsRest?: OneVsRest;
  /** One channel (luma) instead of RGB, as X-rays are. */
  grayscale?: boolean;
  /** File format of the written images; the package ships PNG. */
  format?: "png" | "jpeg";
}

/** A screening-shaped task from the emoji: `positive` category against `ratio` times as many others. */
export interface OneVsRest {
  positive: string;
  ratio: number;
  seed: number;
}

/** The folder that holds the sampled other categories of a one-vs-rest dataset. */
export const REST_CLASS = "other";

/**
 * The built-in screening dataset (`data.builtin: emoji-screening`): animals & nature emoji against
 * five times as many emoji of the other categories, grayscale 512 px JPEGs. About 1:5 like a
 * TB screening set, one channel like an X-ray, and large files like a scanner's.
 */
export const SCREENING_RECIPE: Required<Omit<EmojiDatasetOptions, "out">> = {
  vendor: "google", size: 512, includeSkinTones: false, oneVsRest: { positive: "animals-nature", ratio: 5, seed: 19 }, grayscale: true, format: "jpeg",
};

export interface EmojiDatasetResult {
  classes: Record<string, number>;
  total: number;
  out: string;
}

/** Written into the dataset folder; a rerun with the same recipe finds it and returns early. */
export const DATASET_MARKER = ".tlrun-dataset.json";

interface EmojiEntry {
  image: string;
  category: string;
  skin_variations?: Record<string, { image: string } & Record<string, unknown>>;
  [key: string]: unknown;
}

/** "Smileys & Emotion" -> "smileys-emotion". */
export function slugCategory(category: string): string {
  return category.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "");
}

/**
 * `tlrun dataset emoji`: a folder of class subfolders (one per emoji category, "Component" left
 * out) built from the emoji-datasource-<vendor> package (installed on first use). Built beside `out` and renamed into place,
 * so an interrupted build leaves nothing half-written. Idempotent for the same vendor, package
 * version, size and skin-tone choice; refuses to replace a non-empty folder it did not write.
 */
export async function buildEmojiDataset(opts: EmojiDatasetOptions): Promise<EmojiDatasetResult> {
  const { vendor } = opts;
  const size = opts.size ?? 64;
  if (vendor !== "google" && vendor !== "twitter") throw new TlrunError(`unknown emoji vendor '${String(vendor)}'; use google or twitter`);
  if (!Number.isInteger(size) || size < 8 || size > 1024) throw new TlrunError(`emoji image size must be an integer from 8 to 1024, got ${size}`);
  const pkgDir = extraDir(`emoji-datasource-${vendor}`);
  const version = (JSON.parse(await readFile(join(pkgDir, "package.json"), "utf8")) as { version: string }).version;
  const recipe: Recipe = {
    source: `emoji-datasource-${vendor}`, vendor, version, size, includeSkinTones: opts.includeSkinTones ?? false,
    ...(opts.oneVsRest ? { oneVsRest: opts.oneVsRest } : {}), ...(opts.grayscale ? { grayscale: true } : {}), ...(opts.format === "jpeg" ? { format: "jpeg" } : {}),
  };
  const out = resolve(opts.out);

  const existing = await readMarker(out);
  if (existing && sameRecipe(existing, recipe)) return { classes: existing.classes, total: existing.total, out };
  const kind = await stat(out).then((st) => (st.isDirectory() ? "dir" : "other"), () => "none");
  if (kind === "other") throw new TlrunError(`${out} exists and is not a folder\n  hint: choose another --out`);
  if (!existing && kind === "dir" && (await readdir(out)).length > 0) {
    throw new TlrunError(`${out} already exists and was not written by 'tlrun dataset'\n  hint: choose another --out, or delete the folder first`);
  }

  const all = await listImages(pkgDir, vendor, recipe.includeSkinTones);
  const files = opts.oneVsRest ? oneVsRest(all, opts.oneVsRest) : all;
  const tmp = tempPathFor(out);
  try {
    const classes: Record<string, number> = {};
    for (const cls of new Set(files.map((f) => f.cls))) await mkdir(join(tmp, cls), { recursive: true });
    await mapLimit(files, 16, async ({ src, cls, name }) => {
      const jpeg = opts.format === "jpeg";
      const dest = join(tmp, cls, jpeg ? name.replace(/\.png$/i, ".jpg") : name);
      if (size === 64 && !jpeg && !opts.grayscale) return copyFile(src, dest);
      // emoji are drawn on transparency: flatten onto white, as a scan has no alpha
      let img = sharp(src).resize(size, size, { kernel: "lanczos3" }).flatten({ background: "#ffffff" });
      if (opts.grayscale) img = img.grayscale();
      await (jpeg ? img.jpeg({ quality: 90 }) : img.png()).toFile(dest);
    });
    for (const f of files) classes[f.cls] = (classes[f.cls] ?? 0) + 1;
    const sorted = Object.fromEntries(Object.entries(classes).sort(([a], [b]) => (a < b ? -1 : 1)));
    const marker = { ...recipe, classes: sorted, total: files.length };
    await writeFile(join(tmp, DATASET_MARKER), JSON.stringify(marker, null, 2) + "\n");
    await mkdir(dirname(out), { recursive: true });
    await rm(out, { recursive: true, force: true }); // empty, or a dataset of ours with another recipe
    await rename(tmp, out);
    return { classes: sorted, total: files.length, out };
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
}

type Recipe = { source: string; vendor: string; version: string; size: number; includeSkinTones: boolean; oneVsRest?: OneVsRest; grayscale?: boolean; format?: string };
type Marker = Recipe & { classes: Record<string, number>; total: number };

async function readMarker(out: string): Promise<Marker | undefined> {
  try {
    return JSON.parse(await readFile(join(out, DATASET_MARKER), "utf8")) as Marker;
  } catch {
    return undefined; // absent or unreadable: treated as not ours
  }
}

function sameRecipe(a: Recipe, b: Recipe): boolean {
  const extra = (r: Recipe): string => JSON.stringify([r.oneVsRest ?? null, r.grayscale ?? false, r.format ?? "png"]);
  return a.vendor === b.vendor && a.version === b.version && a.size === b.size && a.includeSkinTones === b.includeSkinTones && extra(a) === extra(b);
}

/** The positive category's images, and a seeded sample of `ratio` times as many from all the others, in REST_CLASS. */
function oneVsRest<T extends { cls: string }>(files: T[], spec: OneVsRest): T[] {
  const positives = files.filter((f) => f.cls === spec.positive);
  if (!positives.length) {
    const known = [...new Set(files.map((f) => f.cls))].sort();
    throw new TlrunError(`no emoji category '${spec.positive}'; the categories are ${known.join(", ")}`);
  }
  const rest = new Rng(spec.seed).shuffle(files.filter((f) => f.cls !== spec.positive));
  return [...positives, ...rest.slice(0, Math.round(positives.length * spec.ratio)).map((f) => ({ ...f, cls: REST_CLASS }))];
}

/** The package's 64 px images with their class (category slug); also the planted dataset's sources (emoji-planted.ts). */
export async function listImages(pkgDir: string, vendor: EmojiVendor, skinTones: boolean): Promise<Array<{ src: string; cls: string; name: string }>> {
  const entries = JSON.parse(await readFile(join(pkgDir, "emoji.json"), "utf8")) as EmojiEntry[];
  const flag = `has_img_${vendor}`;
  const imgDir = join(pkgDir, "img", vendor, "64");
  const files: Array<{ src: string; cls: string; name: string }> = [];
  for (const e of entries) {
    if (e.category === "Component") continue;
    const cls = slugCategory(e.category);
    const variants = skinTones ? Object.values(e.skin_variations ?? {}) : [];
    for (const v of [e, ...variants]) {
      if (v[flag] === true) files.push({ src: join(imgDir, v.image), cls, name: v.image });
    }
  }
  return files;
}
