import { stringify } from "yaml";
import type { SweepParameter } from "./types";

/**
 * The search space of a sweep: each dimension is one config path and what may be tried there.
 * Pure and TensorFlow-free, so the planner, the samplers and the validator share it.
 */
export type Dimension =
  | { path: string; kind: "values"; values: unknown[] }
  | { path: string; kind: "range"; min: number; max: number; log: boolean; int: boolean };

/** Refuse grids larger than this unless `max_trials` says how many to run. */
export const GRID_LIMIT = 10_000;

export function dimensionOf(path: string, p: SweepParameter): Dimension {
  if (p.values) return { path, kind: "values", values: p.values };
  if (p.choice) return { path, kind: "values", values: p.choice };
  return { path, kind: "range", min: p.min!, max: p.max!, log: !!p.log, int: !!p.int };
}

/** How many points a grid over these dimensions has (ranges have no grid; Infinity). */
export function gridSize(dims: readonly Dimension[]): number {
  return dims.reduce((n, d) => n * (d.kind === "values" ? d.values.length : Infinity), 1);
}

/** A value written as a YAML flow scalar, the form `--set path=value` reads. */
export function flowValue(v: unknown): string {
  return stringify(v, { collectionStyle: "flow", lineWidth: 0 }).trim();
}
