import type { RunSummary } from "../runs/record";

/** The part of a run folder (journal.ts) the stage tags come from. */
type Journal = { summary: RunSummary };

/**
 * Stage timings as the run's page should show them: not metric charts, which MLflow puts first
 * and which would push the training curves down, but one tag per stage and a table artifact.
 */

/** What a stage's tag says: "cached" (or "present" for a source), else its time, "12.3 s". */
export function stageTagValue(s: { cached: boolean; seconds: number }): string {
  return s.cached ? "cached" : `${s.seconds.toFixed(1)} s`;
}

/** `tlrun.stage.<name>` per stage, `tlrun.stages_cached` ("3 of 8") and `tlrun.run_seconds`, once the run has ended. */
export function stageTags(j: Journal): Array<[string, string]> {
  if (j.summary.status === "running") return [];
  const stages = j.summary.stages;
  const out: Array<[string, string]> = stages.map((s) => [`tlrun.stage.${s.name}`, stageTagValue(s)]);
  out.push(["tlrun.stages_cached", `${stages.filter((s) => s.cached).length} of ${stages.length}`]);
  if (typeof j.summary.seconds === "number") out.push(["tlrun.run_seconds", j.summary.seconds.toFixed(1)]);
  return out;
}

/** stages.json: every stage in run order with whether it was cached, its seconds and its cache key. */
export function stagesTable(j: Journal): Buffer | undefined {
  if (j.summary.status === "running") return undefined;
  const rows = j.summary.stages.map((s) => ({ stage: s.name, cached: s.cached, seconds: Number(s.seconds.toFixed(3)), key: s.key ?? null }));
  return Buffer.from(JSON.stringify({ run_seconds: j.summary.seconds ?? null, stages: rows }, null, 1) + "\n");
}
