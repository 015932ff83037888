/**
 * The large-folder section (issue #21 §3): the quickstart recipe on generated folders of two
 * sizes, measured from outside. Peak memory of the process tree, bytes in the temp folder, the
 * scratch folder and the caches, and wall time are fitted by a line over the sizes and read at
 * 100k images; the ETA each stage printed is judged against the time the stage took.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { Context } from "./context";
import { etaErrors, type StageEta } from "./eta";
import { generatedFolder } from "./folder-data";
import { runOnFolder, type FolderRun } from "./folder-run";
import { linearFit } from "./linear-fit";
import { samplesToCsv } from "./sampler";
import { peaksByStage, type StagePeak } from "./stage-peaks";

const TARGET_IMAGES = 100_000;
const MEMORY_TARGET_MB = 2560; // 2.5 GiB
const TMP_TARGET_MB = 50;
const ETA_TARGET = 0.25;
const ETA_AT = [0.1, 0.25, 0.5];
/** Stages shorter than this at the largest size are not judged on their ETA (there is hardly time to show one). */
const ETA_MIN_SECONDS = 10;
const SEED = 1;
const MB = 2 ** 20;

const pct = (e: number | undefined): string => (e === undefined ? "none" : `${e >= 0 ? "+" : ""}${(e * 100).toFixed(0)}%`);

export async function folderSection(ctx: Context): Promise<void> {
  const sizes = ctx.opts.folderSizes ?? (ctx.opts.quick ? [1000, 2500] : [2500, 10000]);
  const runs: FolderRun[] = [];
  const generate: Record<number, number> = {};
  for (const n of sizes) {
    const folder = await generatedFolder(n, SEED);
    generate[n] = folder.seconds;
    process.stderr.write(`bench: folder: ${n} images in ${folder.dir}${folder.generated ? ` (generated in ${folder.seconds.toFixed(0)} s)` : " (cached)"}; running the quickstart ...\n`);
    const work = mkdtempSync(join(ctx.tmp, `folder-${n}-`));
    try {
      const run = await runOnFolder(ctx, folder.dir, n, work);
      if (run.exit !== 0) throw new Error(`the quickstart on ${n} images exited ${run.exit}: ${run.stderr.slice(-5).map((l) => l.text).join(" | ")}`);
      runs.push(run);
      process.stderr.write(`bench: folder: ${n} images took ${run.wall_s.toFixed(0)} s, peak RSS ${run.peak.tree_mb.toFixed(0)} MB\n`);
    } finally {
      if (!ctx.opts.keep) rmSync(work, { recursive: true, force: true });
    }
  }
  const saved = runs.map((r) => ({ ...r, samples: samplesToCsv(r.samples) }));
  ctx.raw.folder = { sizes, seed: SEED, generate_seconds: generate, ...addFolderRows(ctx, runs), runs: saved };
}

/** The section's rows from its runs (smallest first); also what a saved results file can be read back with. */
export function addFolderRows(ctx: Context, runs: FolderRun[]): { etas: Record<number, StageEta[]>; stage_peaks: Record<number, Record<string, StagePeak>> } {
  const etas: Record<number, StageEta[]> = {};
  const peaks: Record<number, Record<string, StagePeak>> = {};
  for (const r of runs) {
    etas[r.images] = etaErrors(r.stderr, ETA_AT);
    peaks[r.images] = peaksByStage(r.samples, r.stderr);
  }
  for (const r of runs) sizeRows(ctx, r, etas[r.images]!, peaks[r.images]!);
  if (runs.length >= 2) extrapolationRows(ctx, runs, etas, peaks);
  etaRows(ctx, runs[runs.length - 1]!.images, etas, runs.map((r) => r.images));
  return { etas, stage_peaks: peaks };
}

function sizeRows(ctx: Context, r: FolderRun, stages: StageEta[], peaks: Record<string, StagePeak>): void {
  const perStage = stages.filter((s) => s.seconds >= 0.5).map((s) => `${s.stage} ${s.seconds.toFixed(0)}s`).join(", ");
  const mem = Object.entries(peaks).filter(([, p]) => p.tree_mb > 0).map(([name, p]) => `${name} ${p.tree_mb.toFixed(0)}`).join(", ");
  ctx.add({ section: "folder", metric: `peak RSS of the process tree, quickstart on ${r.images} images`, tlrun: r.peak.tree_mb, unit: "MB",
    note: `by stage (MB): ${mem}; largest single process ${r.peak.max_proc_mb.toFixed(0)} MB, ${r.peak.procs} process(es); wall ${r.wall_s.toFixed(0)} s: ${perStage}` });
  const left = r.tmp_left.map((f) => `${f.name} (${(f.bytes / 1024).toFixed(0)} KB)`).join(", ") || "nothing";
  ctx.add({ section: "folder", metric: `peak bytes in TMPDIR, ${r.images} images`, tlrun: r.peak.bytes.tmp! / MB, unit: "MB", target: `<= ${TMP_TARGET_MB} MB`, pass: r.peak.bytes.tmp! / MB <= TMP_TARGET_MB,
    note: `left in TMPDIR after the run: ${left}` });
  ctx.add({ section: "folder", metric: `peak bytes in runs_dir/.scratch, ${r.images} images`, tlrun: r.peak.bytes.scratch! / MB, unit: "MB",
    note: `stage cache (runs_dir/.cache) peak ${(r.peak.bytes.stage_cache! / MB).toFixed(0)} MB, $TLRUN_CACHE peak ${(r.peak.bytes.tlrun_cache! / MB).toFixed(0)} MB` });
}

function extrapolationRows(ctx: Context, runs: FolderRun[], etas: Record<number, StageEta[]>, peaks: Record<number, Record<string, StagePeak>>): void {
  const fit = (pick: (r: FolderRun) => number) => linearFit(runs.map((r) => [r.images, pick(r)]));
  const from = `fit over ${runs.map((r) => r.images).join(" and ")} images`;
  // each stage's own line, so a stage that grows is not hidden by a larger one that does not
  const stageNames = Object.keys(peaks[runs[0]!.images]!).filter((name) => runs.every((r) => (peaks[r.images]![name]?.tree_mb ?? 0) > 0));
  const byStage = stageNames.map((name) => ({ name, line: linearFit(runs.map((r) => [r.images, peaks[r.images]![name]!.tree_mb])) }))
    .sort((a, b) => b.line.at(TARGET_IMAGES) - a.line.at(TARGET_IMAGES));
  const top = byStage[0]!;
  const at = top.line.at(TARGET_IMAGES);
  const overall = fit((r) => r.peak.tree_mb);
  const stagesNote = byStage.map((s) => `${s.name} ${s.line.at(TARGET_IMAGES).toFixed(0)} MB (${(s.line.slope * 1000).toFixed(1)} MB per 1k images)`).join(", ");
  ctx.add({ section: "folder", metric: `peak RSS of the process tree at 100k images (linear fit per stage; largest: ${top.name})`, tlrun: at, unit: "MB", target: `<= ${MEMORY_TARGET_MB} MB`, pass: at <= MEMORY_TARGET_MB,
    note: `${from}, each stage's peak on its own line: ${stagesNote}; one line through the overall peaks would say ${overall.at(TARGET_IMAGES).toFixed(0)} MB (${(overall.slope * 1000).toFixed(1)} MB per 1k images); largest single process (overall line) ${fit((r) => r.peak.max_proc_mb).at(TARGET_IMAGES).toFixed(0)} MB` });
  const tmp = fit((r) => r.peak.bytes.tmp! / MB);
  const tmpAt = Math.max(0, tmp.at(TARGET_IMAGES));
  ctx.add({ section: "folder", metric: "peak bytes in TMPDIR at 100k images (linear fit)", tlrun: tmpAt, unit: "MB", target: `<= ${TMP_TARGET_MB} MB`, pass: tmpAt <= TMP_TARGET_MB,
    note: `${from}: ${(tmp.slope * 1024).toFixed(1)} KB per image` });
  const scratch = fit((r) => r.peak.bytes.scratch! / MB), cache = fit((r) => r.peak.bytes.stage_cache! / MB);
  ctx.add({ section: "folder", metric: "peak bytes in runs_dir/.scratch at 100k images (linear fit)", tlrun: Math.max(0, scratch.at(TARGET_IMAGES)), unit: "MB",
    note: `${from}: ${(scratch.slope * 1024).toFixed(1)} KB per image; stage cache at 100k ${cache.at(TARGET_IMAGES).toFixed(0)} MB (${(cache.slope * 1024).toFixed(1)} KB per image)` });
  const wall = fit((r) => r.wall_s);
  const names = etas[runs[0]!.images]!.filter((s) => s.seconds >= 0.5).map((s) => s.stage);
  const perStage = names.map((name) => {
    const f = linearFit(runs.map((r) => [r.images, etas[r.images]!.find((s) => s.stage === name)?.seconds ?? 0]));
    return `${name} ${(f.slope * 1000).toFixed(1)}`;
  }).join(", ");
  ctx.add({ section: "folder", metric: "quickstart wall time at 100k images (linear fit)", tlrun: wall.at(TARGET_IMAGES) / 60, unit: "min",
    note: `${from}: ${(wall.slope * 1000).toFixed(1)} s per 1k images over ${wall.intercept.toFixed(0)} s; seconds per 1k images by stage: ${perStage}` });
}

function etaRows(ctx: Context, n: number, etas: Record<number, StageEta[]>, sizes: number[]): void {
  for (const s of etas[n]!) {
    if (s.seconds < ETA_MIN_SECONDS) continue;
    const at10 = s.readings[0]!;
    const others = sizes.filter((m) => m !== n).map((m) => {
      const o = etas[m]?.find((x) => x.stage === s.stage);
      return o ? `at ${m} images: ${pct(o.readings[0]!.error)} at 10%` : "";
    }).filter(Boolean);
    const later = s.readings.slice(1).map((r) => `${pct(r.error)} at ${r.at * 100}%`).join(", ");
    const first = s.first ? `first ETA shown at ${(s.first.shownAt * 100).toFixed(0)}% of the stage, off by ${pct(s.first.error)}` : "the stage showed no ETA at all";
    const what = at10.error === undefined ? (s.etas ? "no ETA shown by 10%" : "no ETA shown") : `shown at ${(at10.shownAt! * 100).toFixed(0)}%`;
    ctx.add({ section: "folder", metric: `ETA error at 10% of ${s.stage} (${s.seconds.toFixed(0)} s), ${n} images`, tlrun: at10.error === undefined ? undefined : at10.error * 100, unit: "%",
      target: `|err| <= ${ETA_TARGET * 100}%`, pass: at10.error !== undefined && Math.abs(at10.error) <= ETA_TARGET,
      note: `${what}; ${later}; ${first}${others.length ? `; ${others.join("; ")}` : ""}` });
  }
}
