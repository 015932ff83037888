import type { Split } from "./scan";
import { Rng, deriveSeed } from "../util/rng";

/**
 * What the planted-problems dataset (issue #22 §3) plants, chosen before any pixel is written:
 * pure and seeded, so the truth in planted.json is a function of the source list and the seed.
 */

/** One edit of a near-duplicate copy, applied in the order listed (crop, then resize, then JPEG). */
export type PlantedTransform =
  | { kind: "crop"; /** Share of each side's length cut away in total, split at random between the two ends. */ fraction: number; left: number; top: number }
  | { kind: "resize"; scale: number }
  | { kind: "jpeg"; quality: number };

export interface SourceImage {
  src: string;
  cls: string;
  name: string;
}

/** A source image placed in a split, under its own name and class (the flipped ones under another class). */
export interface Placed extends SourceImage {
  split: Split;
  /** The class folder it is written to; differs from `cls` for a flipped label. */
  folder: string;
}

export interface NearCopy {
  /** Index into `PlantedPlan.placed` of the training image copied. */
  original: number;
  split: Split;
  name: string;
  transforms: PlantedTransform[];
}

export interface ExactCopy {
  original: number;
  split: Split;
  name: string;
}

export interface PlantedPlan {
  placed: Placed[];
  near: NearCopy[];
  exact: ExactCopy[];
  /** Indexes into `placed` of the training images written under a wrong class folder. */
  flipped: number[];
}

export interface PlantOptions {
  seed: number;
  /** Near-duplicate copies of training images put in val or test. */
  near: number;
  /** Exact copies under new names; half in the original's split, half in another. */
  exact: number;
  /** Share of the training images whose label is flipped. */
  flipShare: number;
  split: { train: number; val: number };
}

/** The 7 non-empty mixes of the three edits, cycled so each is planted about as often. */
const MIXES: ReadonlyArray<ReadonlyArray<PlantedTransform["kind"]>> = [["jpeg"], ["resize"], ["crop"], ["resize", "jpeg"], ["crop", "jpeg"], ["crop", "resize"], ["crop", "resize", "jpeg"]];

/** Seeded choice of every planted problem over `sources` (sorted by class, then name, by the caller). */
export function plantProblems(sources: readonly SourceImage[], opts: PlantOptions): PlantedPlan {
  const rng = new Rng(deriveSeed(opts.seed, "planted"));
  const placed = placeInSplits(sources, opts, new Rng(deriveSeed(opts.seed, "planted-split")));
  const train = rng.shuffle(placed.map((_, i) => i).filter((i) => placed[i]!.split === "train"));
  const names = new Names(rng, new Set(placed.map((p) => `${p.split}/${p.folder}/${p.name}`)));

  const near: NearCopy[] = train.slice(0, opts.near).map((original, k) => {
    const split: Split = k % 2 === 0 ? "val" : "test";
    const transforms = MIXES[k % MIXES.length]!.map((kind) => draw(kind, rng));
    const ext = transforms.some((t) => t.kind === "jpeg") ? "jpg" : "png";
    return { original, split, transforms, name: names.fresh(split, placed[original]!.folder, ext) };
  });
  const used = new Set(near.map((n) => n.original));
  const others = rng.shuffle(placed.map((_, i) => i).filter((i) => !used.has(i)));
  const exact: ExactCopy[] = others.slice(0, opts.exact).map((original, k) => {
    const from = placed[original]!.split;
    const split = k % 2 === 0 ? from : otherSplit(from, rng);
    return { original, split, name: names.fresh(split, placed[original]!.folder, "png") };
  });
  for (const e of exact) used.add(e.original);

  const classes = [...new Set(sources.map((s) => s.cls))].sort();
  const flipCount = Math.round(train.length * opts.flipShare);
  const flipped = train.filter((i) => !used.has(i)).slice(0, flipCount);
  for (const i of flipped) {
    const p = placed[i]!;
    const wrong = classes.filter((c) => c !== p.cls);
    p.folder = wrong[rng.int(wrong.length)]!;
  }
  return { placed, near, exact, flipped: flipped.sort((a, b) => a - b) };
}

/** Per class, a seeded shuffle cut by the split shares (the rest goes to test). */
function placeInSplits(sources: readonly SourceImage[], opts: PlantOptions, rng: Rng): Placed[] {
  const out: Placed[] = [];
  const byClass = new Map<string, SourceImage[]>();
  for (const s of sources) byClass.set(s.cls, [...(byClass.get(s.cls) ?? []), s]);
  for (const cls of [...byClass.keys()].sort()) {
    const items = rng.shuffle([...byClass.get(cls)!]);
    const nTrain = Math.round(items.length * opts.split.train);
    const nVal = Math.round(items.length * opts.split.val);
    items.forEach((s, i) => out.push({ ...s, folder: s.cls, split: i < nTrain ? "train" : i < nTrain + nVal ? "val" : "test" }));
  }
  return out;
}

function draw(kind: PlantedTransform["kind"], rng: Rng): PlantedTransform {
  const round = (x: number, d: number): number => Number(x.toFixed(d));
  if (kind === "jpeg") return { kind, quality: 60 + rng.int(31) };
  if (kind === "resize") return { kind, scale: round(rng.uniform(0.6, 1.4), 2) };
  return { kind, fraction: round(rng.uniform(0.02, 0.06), 3), left: round(rng.next(), 2), top: round(rng.next(), 2) };
}

function otherSplit(split: Split, rng: Rng): Split {
  const rest = (["train", "val", "test"] as const).filter((s) => s !== split);
  return rest[rng.int(rest.length)]!;
}

/** Neutral new file names (six hex digits), so nothing in a copy's name gives it away. */
class Names {
  constructor(private rng: Rng, private taken: Set<string>) {}

  fresh(split: Split, folder: string, ext: string): string {
    for (;;) {
      const name = `${this.rng.int(0x1000000).toString(16).padStart(6, "0")}.${ext}`;
      const key = `${split}/${folder}/${name}`;
      if (!this.taken.has(key)) return this.taken.add(key), name;
    }
  }
}
