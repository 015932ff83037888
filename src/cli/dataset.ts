import { resolve } from "node:path";
import { SCREENING_RECIPE, buildEmojiDataset, type EmojiDatasetOptions } from "../data/emoji";
import { GROUPED_IMAGES, GROUPED_LABELS, buildGroupedEmojiDataset } from "../data/emoji-grouped";
import { PLANTED_TRUTH, PLANT_DEFAULTS, buildPlantedDataset } from "../data/emoji-planted";
import { EXIT, UsageError } from "../errors";
import { parse } from "./args";

export const DATASET_HELP = `tlrun dataset emoji [--vendor google|twitter] [--out DIR] [--size PX] [--grayscale] [--format png|jpeg]
                   [--positive CATEGORY [--ratio N] [--seed S]]
tlrun dataset emoji-screening [--out DIR]
tlrun dataset emoji-grouped [--out DIR]
tlrun dataset emoji-planted [--out DIR] [--seed S]

Build a class-folder dataset from the emoji packages (installed on first use).
  emoji             one class per emoji category, 64 px PNGs unless --size/--format say otherwise
  --positive CAT    two classes instead: CAT against a seeded sample of N times as many others ('other')
  emoji-screening   the built-in screening set: animals-nature against 5x as many others,
                    grayscale 512 px JPEGs (same as --positive animals-nature --ratio 5 --grayscale
                    --format jpeg --size 512)
  emoji-grouped     shaped like HAM10000: images/EMJ_*.png and labels.csv (image_id, dx, lesion_id,
                    vendor); the Google and Twitter drawings of one emoji share a lesion_id, as two
                    photos of one lesion do (for data.labels and grouped splits)
  emoji-planted     the google emoji in train/ val/ test/ with known problems planted, to score an
                    audit: near-duplicate copies of training images in val and test, exact copies
                    under new names, 3% of training labels flipped; the truth is in planted.json`;

/** `tlrun dataset emoji|emoji-screening [options]`: build a class-folder dataset from an npm package. */
export async function datasetCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    vendor: { type: "string" }, out: { type: "string" }, size: { type: "string" }, grayscale: { type: "boolean" }, format: { type: "string" },
    positive: { type: "string" }, ratio: { type: "string" }, seed: { type: "string" },
  }, 1, DATASET_HELP);
  const kind = positionals[0];
  if (kind === "emoji-grouped") return grouped(values);
  if (kind === "emoji-planted") return planted(values);
  if (kind !== "emoji" && kind !== "emoji-screening") throw new UsageError(`unknown dataset '${kind ?? ""}'; write emoji, emoji-screening, emoji-grouped or emoji-planted\n${DATASET_HELP}`);
  const opts = kind === "emoji-screening" ? { ...SCREENING_RECIPE, out: resolve(values.out ?? "data/emoji-screening") } : emojiOptions(values);
  const result = await buildEmojiDataset(opts);
  process.stdout.write(`${result.total} images in ${Object.keys(result.classes).length} classes at ${result.out}\n`);
  for (const [name, n] of Object.entries(result.classes)) process.stdout.write(`  ${name.padEnd(20)} ${n}\n`);
  return EXIT.ok;
}

async function grouped(values: Record<string, string | boolean | undefined>): Promise<number> {
  const extra = Object.keys(values).filter((k) => k !== "out" && values[k] !== undefined);
  if (extra.length) throw new UsageError(`emoji-grouped takes only --out, not ${extra.map((k) => `--${k}`).join(", ")}`);
  const r = await buildGroupedEmojiDataset(resolve((values.out as string | undefined) ?? "data/emoji-grouped"));
  process.stdout.write(`${r.images} images of ${r.groups} lesions (emoji drawn by both google and twitter) in ${Object.keys(r.classes).length} classes at ${r.out}\n`);
  process.stdout.write(`  ${GROUPED_LABELS}: image_id, dx (the class), lesion_id (the group), vendor; images in ${GROUPED_IMAGES}/\n`);
  for (const [name, n] of Object.entries(r.classes)) process.stdout.write(`  ${name.padEnd(20)} ${n}\n`);
  return EXIT.ok;
}

async function planted(values: Record<string, string | boolean | undefined>): Promise<number> {
  for (const flag of ["vendor", "size", "grayscale", "format", "positive", "ratio"]) if (values[flag] !== undefined) throw new UsageError(`--${flag} does not go with emoji-planted; it takes --out and --seed`);
  const out = resolve((values.out as string | undefined) ?? "data/emoji-planted");
  const truth = await buildPlantedDataset({ out, seed: number("seed", values.seed as string | undefined, PLANT_DEFAULTS.seed, Number.isInteger) });
  const across = truth.exact.filter((e) => e.across).length;
  process.stdout.write(`${truth.images} images in train/, val/ and test/ at ${out}\n`);
  process.stdout.write(`  near-duplicate copies of training images in val/test  ${truth.near.length}\n`);
  process.stdout.write(`  exact copies under new names                         ${truth.exact.length} (${across} across splits)\n`);
  process.stdout.write(`  training labels flipped                              ${truth.flipped.length}\n`);
  process.stdout.write(`the truth is in ${PLANTED_TRUTH}\n`);
  return EXIT.ok;
}

function number(flag: string, text: string | undefined, fallback: number, ok: (n: number) => boolean): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isFinite(n) || !ok(n)) throw new UsageError(`--${flag} ${text}: not a valid value`);
  return n;
}

function emojiOptions(values: Record<string, string | boolean | undefined>): EmojiDatasetOptions {
  const vendor = (values.vendor as string | undefined) ?? "google";
  if (vendor !== "google" && vendor !== "twitter") throw new UsageError(`--vendor ${vendor}: write google or twitter`);
  const format = (values.format as string | undefined) ?? "png";
  if (format !== "png" && format !== "jpeg") throw new UsageError(`--format ${format}: write png or jpeg`);
  const positive = values.positive as string | undefined;
  if (!positive && (values.ratio !== undefined || values.seed !== undefined)) throw new UsageError("--ratio and --seed go with --positive CATEGORY");
  return {
    vendor, format, grayscale: values.grayscale === true,
    out: resolve((values.out as string | undefined) ?? `data/emoji-${vendor}${positive ? `-${positive}` : ""}`),
    size: number("size", values.size as string | undefined, 64, (n) => Number.isInteger(n)),
    ...(positive ? { oneVsRest: { positive, ratio: number("ratio", values.ratio as string | undefined, 5, (n) => n > 0 && n <= 100), seed: number("seed", values.seed as string | undefined, 19, Number.isInteger) } } : {}),
  };
}
