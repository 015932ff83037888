/**
 * Peak memory and temp bytes within each stage. The run's overall peak is the largest of the
 * stages' peaks, and at small folders a stage that does not grow (fine-tune's compiled step) can
 * hide one that does (train-head holding every feature view): a line through the overall peaks
 * would miss the one that takes over at 100k, so each stage gets its own line.
 */
import { splitStages, type StampedLine } from "./eta";
import type { Sample } from "./sampler";

export interface StagePeak {
  tree_mb: number;
  tmp_mb: number;
}

/** Peaks of the samples taken while each stage ran; samples outside every stage go to "(outside stages)". */
export function peaksByStage(samples: Sample[], lines: StampedLine[]): Record<string, StagePeak> {
  const stages = splitStages(lines);
  const out: Record<string, StagePeak> = {};
  for (const s of samples) {
    const name = stages.find((st) => s.t >= st.start && s.t <= st.end)?.stage ?? "(outside stages)";
    const p = (out[name] ??= { tree_mb: 0, tmp_mb: 0 });
    p.tree_mb = Math.max(p.tree_mb, s.tree_mb);
    p.tmp_mb = Math.max(p.tmp_mb, (s.bytes.tmp ?? 0) / 2 ** 20);
  }
  return out;
}
