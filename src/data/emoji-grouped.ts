import { copyFile, mkdir, readFile, rename, rm, stat, readdir, writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { TlrunError } from "../errors";
import { tempPathFor } from "../util/atomic";
import { extraDir } from "../util/extras";
import { Rng } from "../util/rng";
import { DATASET_MARKER, slugCategory } from "./emoji";
import { mapLimit } from "./pool";

/** The two vendors whose drawings of one emoji stand for two images of one lesion. */
const VENDORS = ["google", "twitter"] as const;
/** Fixed, so that the ids, and with them every seeded split of this dataset, are the same on every machine. */
const ID_SEED = 22;
export const GROUPED_LABELS = "labels.csv";
export const GROUPED_IMAGES = "images";

export interface GroupedDatasetResult {
  out: string;
  images: number;
  groups: number;
  classes: Record<string, number>;
}

interface EmojiEntry {
  image: string;
  category: string;
  [flag: string]: unknown;
}

/**
 * `tlrun dataset emoji-grouped`: a dataset shaped like HAM10000, one flat folder of images named by
 * opaque ids (`images/EMJ_0000123.png`, as `ISIC_0027419.jpg`) and a `labels.csv` with
 * `image_id,dx,lesion_id,vendor`. Each emoji drawn by both Google and Twitter gives two images that
 * share a `lesion_id` (its code point), as two photos of one lesion do, so a random split puts
 * one in train and its twin in test. The ids come from a fixed seeded shuffle, so twins are not
 * neighbours in the file, and nothing but `lesion_id` ties them. Built beside `out` and renamed into
 * place; a rerun with the same package versions returns at once.
 */
export async function buildGroupedEmojiDataset(outDir: string): Promise<GroupedDatasetResult> {
  const out = resolve(outDir);
  const pkgs = VENDORS.map((v) => extraDir(`emoji-datasource-${v}`));
  const versions = await Promise.all(pkgs.map(async (p) => (JSON.parse(await readFile(join(p, "package.json"), "utf8")) as { version: string }).version));
  const recipe = { source: "emoji-grouped", vendors: [...VENDORS], versions, seed: ID_SEED };
  const existing = await readFile(join(out, DATASET_MARKER), "utf8").then((t) => JSON.parse(t) as typeof recipe & GroupedDatasetResult, () => undefined);
  if (existing && JSON.stringify([existing.source, existing.versions, existing.seed]) === JSON.stringify([recipe.source, recipe.versions, recipe.seed]))
    return { out, images: existing.images, groups: existing.groups, classes: existing.classes };
  const kind = await stat(out).then((st) => (st.isDirectory() ? "dir" : "other"), () => "none");
  if (kind === "other") throw new TlrunError(`${out} exists and is not a folder\n  hint: choose another --out`);
  if (!existing && kind === "dir" && (await readdir(out)).length > 0)
    throw new TlrunError(`${out} already exists and was not written by 'tlrun dataset'\n  hint: choose another --out, or delete the folder first`);

  const rows = await pairedImages(pkgs);
  const tmp = tempPathFor(out);
  try {
    await mkdir(join(tmp, GROUPED_IMAGES), { recursive: true });
    await mapLimit(rows, 16, (r) => copyFile(r.src, join(tmp, GROUPED_IMAGES, `${r.id}.png`)));
    const sorted = [...rows].sort((a, b) => (a.id < b.id ? -1 : 1));
    await writeFile(join(tmp, GROUPED_LABELS), ["image_id,dx,lesion_id,vendor", ...sorted.map((r) => `${r.id},${r.dx},${r.lesion},${r.vendor}`)].join("\n") + "\n");
    const classes: Record<string, number> = {};
    for (const r of sorted) classes[r.dx] = (classes[r.dx] ?? 0) + 1;
    const result = { images: rows.length, groups: rows.length / VENDORS.length, classes: Object.fromEntries(Object.entries(classes).sort(([a], [b]) => (a < b ? -1 : 1))) };
    await writeFile(join(tmp, DATASET_MARKER), JSON.stringify({ ...recipe, ...result }, null, 2) + "\n");
    await mkdir(dirname(out), { recursive: true });
    await rm(out, { recursive: true, force: true }); // empty, or a dataset of ours with other versions
    await rename(tmp, out);
    return { out, ...result };
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
}

/** One row per vendor for every emoji (no skin tones, no "Component") that both vendors draw, with its opaque id. */
async function pairedImages(pkgs: string[]): Promise<Array<{ id: string; src: string; dx: string; lesion: string; vendor: string }>> {
  const entries = JSON.parse(await readFile(join(pkgs[0]!, "emoji.json"), "utf8")) as EmojiEntry[];
  const both = entries
    .filter((e) => e.category !== "Component" && VENDORS.every((v, i) => e[`has_img_${v}`] === true && existsSync(join(pkgs[i]!, "img", v, "64", e.image))))
    .sort((a, b) => (a.image < b.image ? -1 : 1));
  const rows = both.flatMap((e) => VENDORS.map((v, i) => ({ src: join(pkgs[i]!, "img", v, "64", e.image), dx: slugCategory(e.category), lesion: e.image.replace(/\.png$/i, ""), vendor: v })));
  const order = new Rng(ID_SEED).shuffle(rows.map((_, i) => i));
  return rows.map((r, i) => ({ ...r, id: `EMJ_${String(order[i]! + 1).padStart(7, "0")}` }));
}
