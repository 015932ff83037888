import { DUPLICATE_DEFAULTS, findDuplicates, type DuplicateThresholds } from "./duplicates";
import { LABEL_DEFAULTS } from "./defaults";
import { labelIssues } from "./label-issues";
import { nearestNeighbours, project } from "./neighbours";
import { outliers } from "./outliers";
import { standardiseInPlace, unitRows } from "./standardise";
import type { AuditFindings, AuditInput } from "./types";
import { stopwatch } from "./stopwatch";

/** Every threshold the finders take; docs/audit.md gives the measurements behind each default. */
export interface AuditThresholds extends DuplicateThresholds {
  /** Stratified folds of the label probe. */
  labelFolds: number;
  /** Neighbours for the label vote and the outlier distance. */
  neighbours: number;
  /** Outlier when the mean distance to its neighbours is at least this many times the median one. */
  outlierMinScore: number;
}

export const AUDIT_DEFAULTS: AuditThresholds = {
  ...DUPLICATE_DEFAULTS,
  labelFolds: LABEL_DEFAULTS.folds,
  neighbours: LABEL_DEFAULTS.knn,
  outlierMinScore: 2,
};

/** Above this many n²·d multiply-adds the neighbour search runs on a random projection. */
const NEIGHBOUR_BUDGET = 2e12;
const PROJECTED_DIMS = 256;

/** The rows the neighbour search runs on: the features' rows at unit length, or projected. */
export interface SearchRows {
  rows: Float32Array;
  dim: number;
}

/**
 * The neighbour search's rows: unit-length copies of the features while n²·d stays within the
 * budget, a seeded random projection to 256 dimensions above it (100k images).
 */
export function searchRows(input: Pick<AuditInput, "features" | "dim" | "seed">, tick?: () => void): SearchRows {
  const n = Math.floor(input.features.length / input.dim);
  const small = n * n * input.dim <= NEIGHBOUR_BUDGET || input.dim <= PROJECTED_DIMS;
  return small
    ? { rows: unitRows({ features: input.features, width: input.dim, from: 0, cols: input.dim }), dim: input.dim }
    : { rows: project(input.features, input.dim, PROJECTED_DIMS, input.seed, tick ? { tick } : {}), dim: PROJECTED_DIMS };
}

/**
 * Run every finder over one dataset (synchronous: the tensor work is on the tfjs backend the
 * caller selected; 10k images take seconds, 100k minutes). The features are the extract stage's
 * plain rows: [avg pooled | max pooled], `dim` values each; the whole row is used. The
 * neighbour search (cosine of the raw rows) is shared by the label vote and the outlier score;
 * the probe sees standardised rows, scaled over `input.features` itself (the caller's array is
 * consumed: at 100k images a scaled copy would be another gigabyte). `tick` is called between
 * pieces of the work: the caller keeps its cache lock fresh there, since a timer cannot fire
 * while this holds the event loop;
 * `onPhase` is told the name of each finder (the `seconds` keys) as it starts. `prepared.search`
 * is the neighbour search's rows when the caller has made them already (`searchRows`); it is
 * taken out of `prepared` once used, so that nothing holds them after the search.
 */
export function auditFindings(input: AuditInput, opts: Partial<AuditThresholds> = {}, tick?: () => void, onPhase?: (name: string) => void, prepared?: { search?: SearchRows }): AuditFindings {
  const t: AuditThresholds = { ...AUDIT_DEFAULTS, ...opts };
  const n = input.items.length;
  if (input.features.length !== n * input.dim) throw new Error(`audit: ${input.features.length} feature values for ${n} rows of ${input.dim}`);
  if (input.signatures.length !== n) throw new Error(`audit: ${input.signatures.length} signatures for ${n} items`);
  const seconds: Record<string, number> = {};
  const timed = stopwatch(seconds, onPhase);
  const view = { features: input.features, width: input.dim, from: 0, cols: input.dim };
  const nb = timed("neighbours", () => {
    const rows = prepared?.search ?? searchRows(input, tick);
    if (prepared) delete prepared.search; // 100 MB at 100k images, not needed past the search
    return nearestNeighbours(rows.rows, rows.dim, t.neighbours, { tick });
  });
  const dup = findDuplicates(input.items, input.signatures, view, t, tick, nb, onPhase);
  Object.assign(seconds, dup.seconds);
  const odd = timed("outliers", () => outliers(nb, t.neighbours, t.outlierMinScore));
  // the raw rows are not needed past this point: the probe's scaling overwrites them
  const x = timed("standardise", () => standardiseInPlace(input.features, input.dim, true));
  const labels = Int32Array.from(input.items, (it) => it.label);
  const options = { ...LABEL_DEFAULTS, folds: t.labelFolds, knn: t.neighbours, probe: { ...LABEL_DEFAULTS.probe, seed: input.seed, ...(tick ? { tick } : {}) } };
  const label = timed("label_issues", () => labelIssues(x, input.dim, labels, input.classes.length, input.seed, options, nb));
  return { duplicates: dup.findings, labelIssues: label.issues, outliers: odd, thresholds: { ...t }, seconds };
}
