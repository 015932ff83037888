import { dimensionOf, flowValue, type Dimension } from "../config/sweep-space";
import type { SweepConfig } from "../config/types";
import type { Rng } from "../util/rng";

// The space's definition lives in config (the sweep block's validation needs it); the samplers read it from here.
export { dimensionOf, flowValue, gridSize, GRID_LIMIT, type Dimension } from "../config/sweep-space";

/** One trial's assignment: config path → value. */
export type Assignment = Record<string, unknown>;

export function dimensions(sweep: SweepConfig): Dimension[] {
  return Object.entries(sweep.parameters).map(([path, p]) => dimensionOf(path, p));
}

/** The grid point with this index, the last dimension varying fastest. */
export function gridPoint(dims: readonly Dimension[], index: number): Assignment {
  const out: Assignment = {};
  let rest = index;
  for (let i = dims.length - 1; i >= 0; i--) {
    const d = dims[i]! as Extract<Dimension, { kind: "values" }>;
    out[d.path] = d.values[rest % d.values.length];
    rest = Math.floor(rest / d.values.length);
  }
  return Object.fromEntries(dims.map((d) => [d.path, out[d.path]]));
}

/** A range value from a uniform u in [0, 1): linear or log scale, rounded for int. */
export function fromUnit(d: Extract<Dimension, { kind: "range" }>, u: number): number {
  const v = d.log ? Math.exp(Math.log(d.min) + u * (Math.log(d.max) - Math.log(d.min))) : d.min + u * (d.max - d.min);
  return d.int ? Math.min(d.max, Math.max(d.min, Math.round(v))) : v;
}

/** The inverse of fromUnit, for a value inside the range. */
export function toUnit(d: Extract<Dimension, { kind: "range" }>, v: number): number {
  if (d.max === d.min) return 0.5;
  return d.log ? (Math.log(v) - Math.log(d.min)) / (Math.log(d.max) - Math.log(d.min)) : (v - d.min) / (d.max - d.min);
}

/** An independent uniform draw from every dimension. */
export function randomPoint(dims: readonly Dimension[], rng: Rng): Assignment {
  const out: Assignment = {};
  for (const d of dims) out[d.path] = d.kind === "values" ? d.values[rng.int(d.values.length)] : tidy(fromUnit(d, rng.next()));
  return out;
}

/** Round away float noise (0.30000000000000004) so values read well in logs and CSVs. */
export function tidy(v: number): number {
  return Number.isInteger(v) ? v : Number(v.toPrecision(6));
}

/** `--set` arguments that apply an assignment, values written as YAML flow scalars. */
export function toOverrides(a: Assignment): string[] {
  return Object.entries(a).map(([path, v]) => `${path}=${flowValue(v)}`);
}

/** A short human label of an assignment: `units=128 dropout=0.2`. */
export function label(a: Assignment): string {
  return Object.entries(a).map(([p, v]) => `${p.split(".").pop()}=${flowValue(v)}`).join(" ");
}
