/**
 * The audit section (issue #22 §3): `tlrun audit` with the quickstart's recipe on the generated
 * folders of the folder section (bench/.data), from an empty stage cache, so prepare, extract and
 * the audit all run. The audit stage's time is set against the extract stage's on the same run,
 * and each finder's time is carried to 100k images on a power law fitted over the two sizes
 * (pair searches grow faster than linearly; reading the images does not).
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "./common";
import type { Context } from "./context";
import { generatedFolder } from "./folder-data";
import { dataOverride } from "./folder-run";

const TARGET = 100_000;
const SEED = 1;
const QUICKSTART = join(ROOT, "pipelines", "quickstart.yaml");

export interface AuditRun {
  images: number;
  wall_s: number;
  /** Seconds of each stage the run computed (summary.json). */
  stages: Record<string, number>;
  /** Seconds of each finder (the audit record's own timings), when the record holds them. */
  finders: Record<string, number>;
}

/** One `tlrun audit` of the quickstart on `dir`, in a fresh runs folder under `work`. */
export async function auditOnFolder(ctx: Context, dir: string, images: number, work: string): Promise<AuditRun> {
  const runs = join(work, "runs");
  mkdirSync(runs, { recursive: true });
  const args = [join(ROOT, "bin", "tlrun.js"), "audit", QUICKSTART, "--set", dataOverride(dir), "--set", `runtime.runs_dir=${runs}`, "--json"];
  ctx.log.write(`\n[audit] ${images} images: node ${args.join(" ")}\n`);
  const t0 = performance.now();
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ["ignore", "ignore", "pipe"] });
  child.stderr.on("data", (d: Buffer) => ctx.log.write(d));
  const exit = await new Promise<number | null>((resolve) => child.on("close", resolve));
  const wall_s = (performance.now() - t0) / 1000;
  if (exit !== 0) throw new Error(`tlrun audit on ${images} images exited ${exit}; see the log`);
  const runDir = readdirSync(runs).filter((n) => !n.startsWith(".")).map((n) => join(runs, n)).find((d) => existsSync(join(d, "summary.json")));
  if (!runDir) throw new Error(`tlrun audit on ${images} images left no run record in ${runs}`);
  const summary = JSON.parse(readFileSync(join(runDir, "summary.json"), "utf8")) as { stages: Array<{ name: string; cached: boolean; seconds: number }> };
  const stages = Object.fromEntries(summary.stages.filter((s) => !s.cached).map((s) => [s.name, s.seconds]));
  const record = join(runDir, "audit", "audit.json");
  const finders = existsSync(record) ? ((JSON.parse(readFileSync(record, "utf8")) as { seconds?: Record<string, number> }).seconds ?? {}) : {};
  return { images, wall_s, stages, finders };
}

/** t = c·n^p through two points; read at `n`. */
export function powerLaw(a: [number, number], b: [number, number]): { p: number; at: (n: number) => number } {
  const p = a[1] > 0 && b[1] > 0 ? Math.log(b[1] / a[1]) / Math.log(b[0] / a[0]) : 1;
  return { p, at: (n) => b[1] * (n / b[0]) ** p };
}

export async function auditSection(ctx: Context): Promise<void> {
  const sizes = ctx.opts.folderSizes ?? (ctx.opts.quick ? [1000, 2500] : [2500, 10000]);
  const runs: AuditRun[] = [];
  for (const n of sizes) {
    const folder = await generatedFolder(n, SEED);
    process.stderr.write(`bench: audit: ${n} images in ${folder.dir}; running tlrun audit ...\n`);
    const work = mkdtempSync(join(ctx.tmp, `audit-${n}-`));
    try {
      const run = await auditOnFolder(ctx, folder.dir, n, work);
      runs.push(run);
      process.stderr.write(`bench: audit: ${n} images: extract ${run.stages.extract?.toFixed(0)} s, audit ${run.stages.audit?.toFixed(0)} s\n`);
    } finally {
      if (!ctx.opts.keep) rmSync(work, { recursive: true, force: true });
    }
  }
  ctx.raw.audit = { sizes, seed: SEED, runs };
  for (const r of runs) {
    const audit = r.stages.audit ?? NaN, extract = r.stages.extract ?? NaN;
    const finders = Object.entries(r.finders).map(([k, s]) => `${k} ${s.toFixed(1)}s`).join(", ");
    ctx.add({ section: "audit", metric: `audit stage, ${r.images} images (vs the extract stage of the same run)`, tlrun: audit, reference: extract, refName: "extract", ratio: audit / extract, unit: "s",
      note: `prepare ${r.stages.prepare?.toFixed(0)} s; finders: ${finders || "(not recorded)"}; the quickstart's extract computes the plain features and 2 augmented copies` });
  }
  if (runs.length < 2) return;
  const [a, b] = [runs[runs.length - 2]!, runs[runs.length - 1]!];
  const laws = Object.keys(b.finders).map((k) => ({ k, law: powerLaw([a.images, a.finders[k] ?? 0], [b.images, b.finders[k]!]) }));
  const stage = powerLaw([a.images, a.stages.audit!], [b.images, b.stages.audit!]);
  const fromFinders = laws.length ? laws.reduce((s, f) => s + f.law.at(TARGET), 0) + Math.max(0, b.stages.audit! - Object.values(b.finders).reduce((s, x) => s + x, 0)) * (TARGET / b.images) : NaN;
  const extract = powerLaw([a.images, a.stages.extract!], [b.images, b.stages.extract!]);
  ctx.add({ section: "audit", metric: "audit stage at 100k images (each finder on its own power law, the rest linear)", tlrun: fromFinders / 60, reference: extract.at(TARGET) / 60, refName: "extract", unit: "min",
    note: `fit over ${a.images} and ${b.images} images: ${laws.map((f) => `${f.k} ∝ n^${f.law.p.toFixed(2)} → ${f.law.at(TARGET).toFixed(0)} s`).join(", ")}; the stage on one power law: n^${stage.p.toFixed(2)} → ${(stage.at(TARGET) / 60).toFixed(1)} min; extract n^${extract.p.toFixed(2)}` });
}
