/**
 * One run of the quickstart recipe on a generated folder, the way a user types it: the real CLI,
 * no TTY, `--set` for the data folder, with TMPDIR, the runs folder and $TLRUN_CACHE all fresh
 * and empty, so what grows in them is this run's. Samples memory and folders while it runs and
 * stamps every stderr line as it arrives.
 */
import { spawn } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { parse } from "yaml";
import { ROOT } from "./common";
import type { Context } from "./context";
import type { StampedLine } from "./eta";
import { dirBytes, startSampler, type Sample } from "./sampler";

const QUICKSTART = join(ROOT, "pipelines", "quickstart.yaml");

export interface FolderRun {
  images: number;
  wall_s: number;
  exit: number | null;
  peak: Omit<Sample, "t">;
  samples: Sample[];
  stderr: StampedLine[];
  /** What the run left in TMPDIR after it ended: file name and bytes. */
  tmp_left: Array<{ name: string; bytes: number }>;
  stdout_tail: string;
}

/** The quickstart's `data:` block pointed at `dir`, without `builtin` (which would build the emoji set there). */
export function dataOverride(dir: string): string {
  const data: Record<string, unknown> = { ...(parse(readFileSync(QUICKSTART, "utf8")) as { data: Record<string, unknown> }).data, dir };
  delete data.builtin;
  return `data=${JSON.stringify(data)}`;
}

export async function runOnFolder(ctx: Context, dir: string, images: number, work: string): Promise<FolderRun> {
  const folders = { tmp: join(work, "tmp"), scratch: join(work, "runs", ".scratch"), stage_cache: join(work, "runs", ".cache"), tlrun_cache: join(work, "cache") };
  for (const d of [folders.tmp, join(work, "runs"), folders.tlrun_cache]) mkdirSync(d, { recursive: true });
  const args = [join(ROOT, "bin", "tlrun.js"), "run", QUICKSTART, "--set", dataOverride(dir), "--set", `runtime.runs_dir=${join(work, "runs")}`];
  ctx.log.write(`\n[folder] ${images} images: node ${args.join(" ")}\n`);
  const t0 = performance.now();
  const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, TMPDIR: folders.tmp, TLRUN_CACHE: folders.tlrun_cache }, stdio: ["ignore", "pipe", "pipe"] });
  const sampler = startSampler(child.pid!, folders);
  const stderr: StampedLine[] = [];
  createInterface({ input: child.stderr }).on("line", (text) => {
    stderr.push({ t: Math.round(performance.now() - t0), text });
    ctx.log.write(`[folder ${images}] ${text}\n`);
  });
  let stdout = "";
  child.stdout.on("data", (d: Buffer) => void (stdout += d));
  const exit = await new Promise<number | null>((resolve) => child.on("close", resolve));
  const wall_s = (performance.now() - t0) / 1000;
  const { samples, peak } = sampler.stop();
  ctx.log.write(stdout);
  const tmp_left = readdirSync(folders.tmp).map((name) => ({ name, bytes: dirBytes(join(folders.tmp, name)) }));
  return { images, wall_s, exit, peak, samples, stderr, tmp_left, stdout_tail: stdout.slice(-1500) };
}
