import { Rng } from "../util/rng";
import { fromUnit, randomPoint, tidy, toUnit, type Assignment, type Dimension } from "./space";

/**
 * Tree-structured Parzen Estimator (Bergstra et al., NeurIPS 2011), per dimension as in
 * hyperopt: split finished trials into the best `gamma` share ("good") and the rest, model each
 * group's values with a Parzen density (Gaussians for ranges, smoothed counts for categories),
 * draw candidates from the good density and keep the one with the highest good/bad ratio.
 * Ranges are modelled in [0, 1] after their log or linear mapping.
 */
export interface Observation {
  assignment: Assignment;
  /** Lower is better (the sweep negates metrics it maximizes). */
  loss: number;
}

export interface TpeOptions {
  startupTrials: number;
  /** Share of observations counted as good; hyperopt's default. */
  gamma?: number;
  candidates?: number;
}

export function suggestTpe(dims: readonly Dimension[], history: readonly Observation[], rng: Rng, opts: TpeOptions): Assignment {
  const done = history.filter((o) => Number.isFinite(o.loss));
  if (done.length < opts.startupTrials) return randomPoint(dims, rng);
  const sorted = [...done].sort((a, b) => a.loss - b.loss);
  const nGood = Math.max(1, Math.ceil((opts.gamma ?? 0.25) * sorted.length));
  const good = sorted.slice(0, nGood).map((o) => o.assignment);
  const bad = sorted.slice(nGood).map((o) => o.assignment);
  const n = opts.candidates ?? 24;
  const out: Assignment = {};
  for (const d of dims) {
    if (d.kind === "values") {
      const l = categorical(d.values, good.map((a) => a[d.path]));
      const g = categorical(d.values, bad.map((a) => a[d.path]));
      let best = 0;
      let bestScore = -Infinity;
      for (let i = 0; i < n; i++) {
        const c = drawCategory(l, rng);
        const score = Math.log(l[c]!) - Math.log(g[c]!);
        if (score > bestScore) [best, bestScore] = [c, score];
      }
      out[d.path] = d.values[best];
    } else {
      const l = parzen(good.map((a) => toUnit(d, Number(a[d.path]))));
      const g = parzen(bad.map((a) => toUnit(d, Number(a[d.path]))));
      let best = 0.5;
      let bestScore = -Infinity;
      for (let i = 0; i < n; i++) {
        const x = l.sample(rng);
        const score = Math.log(l.density(x)) - Math.log(g.density(x));
        if (score > bestScore) [best, bestScore] = [x, score];
      }
      out[d.path] = tidy(fromUnit(d, Math.min(best, 1 - 1e-12)));
    }
  }
  return out;
}

/** Category probabilities from counts plus one prior observation per category. */
function categorical(values: readonly unknown[], seen: readonly unknown[]): number[] {
  const keys = values.map((v) => JSON.stringify(v));
  const counts = values.map(() => 1);
  for (const s of seen) {
    const i = keys.indexOf(JSON.stringify(s));
    if (i >= 0) counts[i]!++;
  }
  const total = counts.reduce((a, b) => a + b, 0);
  return counts.map((c) => c / total);
}

function drawCategory(p: readonly number[], rng: Rng): number {
  let u = rng.next();
  for (let i = 0; i < p.length; i++) if ((u -= p[i]!) < 0) return i;
  return p.length - 1;
}

interface Density {
  density(x: number): number;
  sample(rng: Rng): number;
}

/**
 * A mixture of Gaussians truncated to [0, 1]: one at each point plus a wide prior at 0.5. Each
 * point's width is the larger gap to its sorted neighbours (hyperopt's adaptive Parzen), clipped
 * to [1 / min(100, n + 1), 1] so a tight cluster does not collapse to a spike.
 */
function parzen(points: readonly number[]): Density {
  const mus = [...points.map((p) => Math.min(1, Math.max(0, p))), 0.5];
  const order = mus.map((m, i) => [m, i] as const).sort((a, b) => a[0] - b[0]);
  const sigmas = new Array<number>(mus.length);
  const floor = 1 / Math.min(100, mus.length + 1);
  order.forEach(([m, i], k) => {
    const left = k > 0 ? m - order[k - 1]![0] : m;
    const right = k < order.length - 1 ? order[k + 1]![0] - m : 1 - m;
    sigmas[i] = Math.min(1, Math.max(floor, left, right));
  });
  sigmas[mus.length - 1] = 1; // the prior
  const mass = mus.map((m, i) => normCdf((1 - m) / sigmas[i]!) - normCdf((0 - m) / sigmas[i]!));
  const w = 1 / mus.length;
  return {
    density(x) {
      let p = 0;
      for (let i = 0; i < mus.length; i++) p += (w * normPdf((x - mus[i]!) / sigmas[i]!)) / (sigmas[i]! * mass[i]!);
      return Math.max(p, 1e-300);
    },
    sample(rng) {
      const i = rng.int(mus.length);
      for (let tries = 0; tries < 64; tries++) {
        const x = mus[i]! + sigmas[i]! * gaussian(rng);
        if (x >= 0 && x < 1) return x;
      }
      return Math.min(1 - 1e-9, Math.max(0, mus[i]!));
    },
  };
}

const normPdf = (z: number): number => Math.exp(-0.5 * z * z) / Math.sqrt(2 * Math.PI);

/** Standard normal CDF via erf (Abramowitz-Stegun 7.1.26, error < 1.5e-7). */
function normCdf(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const erf = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
  return z >= 0 ? 0.5 * (1 + erf) : 0.5 * (1 - erf);
}

/** Box-Muller. */
function gaussian(rng: Rng): number {
  const u = Math.max(rng.next(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.next());
}
