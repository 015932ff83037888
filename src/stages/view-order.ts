/**
 * The order in which a stage runs the frozen base over several views of the same images (the
 * extract stage's plain features and augmented copies, fine-tune's fixed views): chunk by chunk,
 * each chunk's images plain and then each augmented view of them, so the views find the chunk's
 * decodes in the pixel cache (src/data/decode.ts) however large the dataset is.
 */
import type { PipelineConfig } from "../config/types";
import type { AugmentParams } from "../data/augment";
import { pixelCacheBudget } from "../data/decode";
import { augmentParams } from "../data/loader";

/** One row to compute: an image, the view it belongs to (0 plain), and for an augmented view its draw. */
export interface ViewRow {
  abs: string;
  view: number;
  /** The augmentation's stream (`epoch`) and item index, as the loader's augmentParams takes them. */
  draw?: { epoch: number; index: number };
}

/**
 * The rows for `items` plain and in `copies` augmented views of those with `train` set, chunk by
 * chunk of `chunk` items. A view's draw index counts the `train` items from the start, so each
 * view holds the same rows in the same order whatever the chunking.
 */
export function viewOrder(items: ReadonlyArray<{ abs: string; train: boolean }>, copies: number, chunk: number): ViewRow[] {
  const rows: ViewRow[] = [];
  let trainSeen = 0;
  for (let lo = 0; lo < items.length; lo += chunk) {
    const part = items.slice(lo, lo + chunk);
    for (const it of part) rows.push({ abs: it.abs, view: 0 });
    const train = part.filter((it) => it.train);
    for (let c = 1; c <= copies; c++) train.forEach((it, i) => rows.push({ abs: it.abs, view: c, draw: { epoch: c, index: trainSeen + i } }));
    trainSeen += train.length;
  }
  return rows;
}

/** The augmentation and seed that a stage's views are drawn with. */
export type ViewDraws = { cfg: PipelineConfig["augment"]; seed: number };

/** The loader's `augmentFor` for `rows`: each augmented row's draw from `draws`, nothing for plain rows. */
export function viewAugment(rows: readonly ViewRow[], draws: ViewDraws): (index: number) => AugmentParams | undefined {
  return (i) => {
    const d = rows[i]!.draw;
    return d && augmentParams(draws.cfg, draws.seed, d.epoch, d.index);
  };
}

/** A batch's rows (`indices` into `rows`) as runs bound for the same view, [from, to, view]: a batch may straddle views. */
export function viewRuns(rows: readonly ViewRow[], indices: readonly number[]): Array<[number, number, number]> {
  const runs: Array<[number, number, number]> = [];
  for (let i = 0; i < indices.length; ) {
    const view = rows[indices[i]!]!.view;
    let j = i + 1;
    while (j < indices.length && rows[indices[j]!]!.view === view) j++;
    runs.push([i, j, view]);
    i = j;
  }
  return runs;
}

/** Images the loader decodes ahead of the batch being used: two prefetched batches of 32, the one in flight and a spare. */
const LOOKAHEAD = 4 * 32;

/**
 * Images per chunk of viewOrder: as many as the pixel cache holds beside the loader's look-ahead
 * into the next chunk, in whole batches of 32, so a chunk's last view still finds its decodes
 * cached; everything at once when there are no views or no cache.
 */
export function chunkImages(total: number, copies: number, perImage: number): number {
  const budget = pixelCacheBudget();
  if (copies === 0 || budget === 0) return Math.max(1, total);
  return Math.max(32, Math.floor((budget / perImage - LOOKAHEAD) / 32) * 32);
}

/** Bytes of one decoded image at the base's input size, as the pixel cache holds it. */
export const imageBytes = (config: PipelineConfig): number =>
  config.base.input_size[0] * config.base.input_size[1] * (config.data.color_mode === "grayscale" ? 1 : 3);
