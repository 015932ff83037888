import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { ProbeDepth } from "./strategy-depths";

export const PROBE_FILE = "probe.json";

/** What the probe stage writes (probe.json): the evidence the strategy table decides from. */
export interface ProbeResult {
  /** The whole training split's size and class count: the table's "size". */
  train_images: number;
  classes: number;
  /** The subsample the probes were fitted and scored on. */
  sample: { train: number; val: number };
  /** Shallow to top: the probe head's val accuracy at each depth. */
  depths: Array<ProbeDepth & { accuracy: number; dim: number; seconds: number }>;
  /** "rising", "falling" or "peaks at <layer>": the curve in one phrase. */
  shape: string;
}

/** The probe's result from its cache entry (whose digests the cache checked when it looked the entry up). */
export function readProbeResult(entryDir: string): ProbeResult {
  return JSON.parse(readFileSync(join(entryDir, PROBE_FILE), "utf8")) as ProbeResult;
}
