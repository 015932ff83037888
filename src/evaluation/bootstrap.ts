/**
 * Seeded percentile bootstrap. A resample is drawn as multiplicities (how many times each image was
 * drawn, with replacement) rather than as a new array of images, so a statistic computed with
 * weights over fixed, pre-sorted data needs one pass per resample and no sort.
 */
import { deriveSeed, Rng } from "../util/rng";
import type { Estimate } from "./types";

export interface BootstrapOptions {
  /** Resamples to draw; 0 turns the intervals off. */
  resamples: number;
  seed: number;
  /** Central coverage of the interval, 0.95 for a 95% interval. */
  confidence: number;
  /** Names the stream of draws, so two bootstraps with one seed (val and test) are independent. */
  label: string;
}

/**
 * Named values of one weighted sample; null where a value is undefined on it (an AUC of a
 * resample that drew no positive), which leaves that resample out of that value's interval.
 */
export type Statistic = (weights: Int32Array) => Record<string, number | null>;

export interface Interval {
  low: number;
  high: number;
}

export interface BootstrapResult {
  intervals: Record<string, Interval>;
  /** Per value, the resamples left out because the value was undefined on them. */
  skipped: Record<string, number>;
}

/** Percentile intervals of every value `statistic` returns, over `opts.resamples` resamples of `n` images. */
export function bootstrap(n: number, opts: BootstrapOptions, statistic: Statistic): BootstrapResult {
  const draws: Record<string, number[]> = {};
  const skipped: Record<string, number> = {};
  if (n === 0 || opts.resamples <= 0) return { intervals: {}, skipped };
  const rng = new Rng(deriveSeed(opts.seed, `bootstrap:${opts.label}`));
  const weights = new Int32Array(n);
  for (let r = 0; r < opts.resamples; r++) {
    weights.fill(0);
    for (let i = 0; i < n; i++) weights[rng.int(n)]!++;
    for (const [name, value] of Object.entries(statistic(weights))) {
      if (value === null || !Number.isFinite(value)) skipped[name] = (skipped[name] ?? 0) + 1;
      else (draws[name] ??= []).push(value);
    }
  }
  const tail = (1 - opts.confidence) / 2;
  const intervals: Record<string, Interval> = {};
  for (const [name, values] of Object.entries(draws)) {
    values.sort((a, b) => a - b);
    intervals[name] = { low: percentile(values, tail), high: percentile(values, 1 - tail) };
  }
  return { intervals, skipped };
}

/** The q-quantile of sorted values, interpolating linearly between order statistics (numpy's default). */
export function percentile(sorted: number[], q: number): number {
  const at = q * (sorted.length - 1);
  const lo = Math.floor(at);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (at - lo);
}

/** A point value with its interval from `result`; the bounds are null when there is no interval. */
export function estimate(value: number | null, result: BootstrapResult | null, name: string): Estimate {
  const interval = value === null ? undefined : result?.intervals[name];
  return { value, low: interval?.low ?? null, high: interval?.high ?? null };
}
