import type { Split } from "../data/scan";
import { exactDuplicates } from "./exact-duplicates";
import type { AuditThresholds, SearchRows } from "./findings";
import { hashPairs } from "./hash-pairs";
import { neighbourPairs } from "./neighbour-pairs";
import { nearestNeighbours, type Neighbours } from "./neighbours";
import { outliers } from "./outliers";
import { pairChecks } from "./pair-checks";
import { fitAndPredict } from "./probe";
import { LABEL_DEFAULTS } from "./defaults";
import { inverseNorms, standardiseInPlace } from "./standardise";
import { stopwatch } from "./stopwatch";
import type { ImageSignature } from "./types";

/** What the finders will be given, and a uniform sample of the images with their signatures. */
export interface CostInput {
  items: ReadonlyArray<{ split: Split; label: number }>;
  classes: number;
  features: Float32Array;
  dim: number;
  search: SearchRows;
  /** Item indices of the sample, and their signatures in the same order. */
  sample: Int32Array;
  signatures: readonly ImageSignature[];
}

/** Probe fits timed to price the label finder's (two lengths, for its cost per step and per fit), after an untimed one that warms its kernels up. */
const PROBE_STEPS_WARMUP = 4;
const PROBE_STEPS_SHORT = 10;
const PROBE_STEPS_LONG = 50;

/**
 * Seconds each finder will take on the whole set (keyed as `AuditFindings.seconds`), measured by
 * running it on the sample. A uniform sample of m of n images holds about (m/n)² of the pairs, so
 * the pair searches (the hash scan with its thumbnail checks, and the neighbour band's checks) are
 * timed on the sample and scaled by (n/m)²: how many pairs look alike is a property of the data
 * that only the data can tell, and the sample tells it. The band's candidates are the sample's
 * own rows' neighbour lists among the whole set, narrowed to neighbours that are in the sample,
 * found by the same blocked search as the whole one, whose time scales by n/m; so do the passes
 * over each image. The label probe fits a fixed number of steps whatever n is: two short fits
 * price a step and a fit's set-up, scaled by the steps and folds it will take. The pricing costs
 * about 4% of the neighbour search, twice (m/n)² of the pair searches, and a few short probe fits:
 * about 4 s at 100k images.
 */
export function finderCost(input: CostInput, t: AuditThresholds, tick?: () => void): Record<string, number> {
  const n = input.items.length;
  const m = input.sample.length;
  const lin = n / m;
  const quad = lin * lin;
  const sampleSeconds: Record<string, number> = {};
  const timed = stopwatch(sampleSeconds);
  const scale: Record<string, number> = {};
  const time = <T>(name: string, by: number, fn: () => T): T => {
    scale[name] = by;
    return timed(name, fn);
  };
  const nb = time("neighbours", lin, () => nearestNeighbours(input.search.rows, input.search.dim, t.neighbours, { queries: input.sample, ...(tick ? { tick } : {}) }));
  const view = { features: input.features, width: input.dim, from: 0, cols: input.dim };
  const items = Array.from(input.sample, (i) => input.items[i]!);
  time("exact_duplicates", lin, () => exactDuplicates(items, input.signatures));
  const inv = time("feature_norms", 1, () => inverseNorms(view)); // the whole set's: the real pass, timed whole
  const placed: Array<ImageSignature | undefined> = new Array(n);
  input.sample.forEach((i, r) => (placed[i] = input.signatures[r]));
  const checks = pairChecks(placed, view, inv, t);
  const s = input.sample;
  const screen = (a: number, b: number): boolean => checks.screen(s[a]!, s[b]!);
  const keep = (a: number, b: number): boolean => checks.keep(s[a]!, s[b]!);
  // each pair search runs twice and the second is timed: the first runs the checks' code cold,
  // in V8's slower tiers, and that cost scaled by (n/m)² made the hash band half again too dear
  const hash = (): unknown => hashPairs(items, input.signatures, t.phashMaxDistance, keep, screen, tick);
  hash();
  time("phash_pairs", quad, hash);
  if (t.phashConfirmDistance > t.phashMaxDistance) {
    const within = sampleLists(nb, input.sample, n);
    const band = { fromDistance: t.phashMaxDistance, toDistance: t.phashConfirmDistance };
    const confirm = (): unknown => neighbourPairs(items, input.signatures, within, band, (a, b) => checks.accept(s[a]!, s[b]!), keep, screen, tick);
    confirm();
    time("confirm_pairs", quad, confirm);
  }
  time("outliers", lin, () => outliers(nb, t.neighbours, t.outlierMinScore));
  const rows = new Float32Array(m * input.dim);
  input.sample.forEach((i, r) => rows.set(input.features.subarray(i * input.dim, (i + 1) * input.dim), r * input.dim));
  time("standardise", lin, () => standardiseInPlace(rows, input.dim, true));
  const parts = Object.fromEntries(Object.entries(sampleSeconds).map(([name, sec]) => [name, sec * scale[name]!]));
  parts.label_issues = probeSeconds(rows, input.dim, Int32Array.from(items, (it) => it.label), input.classes, t.labelFolds, lin);
  return parts;
}

/**
 * The sample's neighbour lists (row r is sample item r's, among the whole set) in the sample's own
 * numbering, each neighbour outside the sample replaced by the row itself, which the band skips as
 * a pair within one split.
 */
function sampleLists(nb: Neighbours, sample: Int32Array, n: number): Neighbours {
  const at = new Int32Array(n).fill(-1);
  sample.forEach((i, r) => (at[i] = r));
  const index = new Int32Array(nb.index.length);
  for (let r = 0; r < sample.length; r++)
    for (let c = 0; c < nb.k; c++) {
      const j = at[nb.index[r * nb.k + c]!]!;
      index[r * nb.k + c] = j >= 0 ? j : r;
    }
  return { k: nb.k, index, cosine: nb.cosine };
}

/**
 * The label finder: its folds' fits, priced per step and per fit (a fit's set-up, its variables and
 * optimizer, is a fixed cost that 40 steps do not amortise the way 300 do: pricing per step alone
 * made it 2.3 times too dear at 100k), and its predictions over every image, priced per row.
 */
function probeSeconds(rows: Float32Array, d: number, labels: Int32Array, classes: number, folds: number, lin: number): number {
  const all = Array.from(labels, (_, i) => i);
  const probe = { ...LABEL_DEFAULTS.probe };
  const fit = (steps: number, held: number[] = []): number => {
    const t0 = performance.now();
    fitAndPredict(rows, d, labels, classes, all, held, { ...probe, steps });
    return (performance.now() - t0) / 1000;
  };
  fit(PROBE_STEPS_WARMUP);
  const short = fit(PROBE_STEPS_SHORT);
  const long = fit(PROBE_STEPS_LONG);
  const perStep = Math.max(0, (long - short) / (PROBE_STEPS_LONG - PROBE_STEPS_SHORT));
  const perFit = Math.max(0, short - perStep * PROBE_STEPS_SHORT);
  fit(0, all); // the prediction's kernels, warmed up as the fits' are
  const predict = (fit(0, all) - perFit) * lin;
  return folds * (perFit + perStep * probe.steps) + Math.max(0, predict);
}
