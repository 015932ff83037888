/**
 * `npm run bench`: the benchmark suite. Runs the sections asked for (all by default), prints a
 * table and writes bench/results/<timestamp>.json. Flags: --only extract,finetune,decode,rss,quickstart,large,folder,audit
 * --rounds N (default 3) --quick (fewer rounds, 2k images for RSS, 1k and 2.5k for folder and audit)
 * --folder-sizes 2500,10000 (the folder and audit sections' image counts) --keep (keep temp files)
 * --python PATH (the venv's python; set by bench/run.sh).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { buildEmojiDataset } from "../src/data/emoji";
import { EMOJI_DIR, ROOT, parseArgs } from "./common";
import { Context } from "./context";
import { openLog } from "./proc";
import { table } from "./report";
import { decodeSection, extractSection, finetuneSection } from "./sections";
import { folderSection } from "./folder";
import { auditSection } from "./audit-bench";
import { largeImagesSection, quickstartSection, rssSection } from "./system";

const SECTIONS: Record<string, (ctx: Context) => Promise<void>> = {
  extract: extractSection, finetune: finetuneSection, decode: decodeSection, rss: rssSection, quickstart: quickstartSection, large: largeImagesSection, folder: folderSection, audit: auditSection,
};

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  const only = new Set((args.only ?? Object.keys(SECTIONS).join(",")).split(",").map((s) => s.trim()).filter(Boolean));
  for (const s of only) if (!SECTIONS[s]) throw new Error(`unknown section '${s}'; choose from ${Object.keys(SECTIONS).join(", ")}`);
  const quick = args.quick === "true";
  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  const resultsDir = join(ROOT, "bench", "results");
  mkdirSync(resultsDir, { recursive: true });
  const logPath = join(resultsDir, `${stamp}.log`);
  // Every section reads the quickstart's dataset; on a fresh clone nothing has built it yet.
  await buildEmojiDataset({ vendor: "google", out: EMOJI_DIR });
  const tmp = mkdtempSync(join(tmpdir(), "tlrun-bench-"));
  const folderSizes = args["folder-sizes"]?.split(",").map(Number);
  if (folderSizes && (folderSizes.length < 2 || folderSizes.some((n) => !Number.isInteger(n) || n < 100)))
    throw new Error(`--folder-sizes wants two or more image counts of at least 100, e.g. 2500,10000; got '${args["folder-sizes"]}'`);
  const ctx = new Context({ only, rounds: Number(args.rounds ?? (quick ? 1 : 3)), quick, keep: args.keep === "true", folderSizes }, openLog(logPath), tmp, args.python ?? join(ROOT, "bench", ".venv", "bin", "python"));
  const started = performance.now();
  const timings: Record<string, number> = {};
  const failures: Record<string, string> = {};
  try {
    for (const name of Object.keys(SECTIONS).filter((s) => only.has(s))) {
      const t0 = performance.now();
      process.stderr.write(`bench: ${name} ...\n`);
      try {
        await SECTIONS[name]!(ctx);
      } catch (err) {
        failures[name] = err instanceof Error ? err.message : String(err);
        process.stderr.write(`bench: ${name} failed: ${failures[name]}\n`);
      }
      timings[name] = (performance.now() - t0) / 1000;
      process.stderr.write(`bench: ${name} done in ${timings[name]!.toFixed(0)} s\n`);
    }
  } finally {
    ctx.closeAll();
    if (!ctx.opts.keep) rmSync(tmp, { recursive: true, force: true });
  }
  const env = {
    node: process.version, cpus: cpus().length, cpu_model: cpus()[0]?.model, loadavg_end: loadavg(),
    tfjs_node_libtensorflow: "2.9.1 (tensorflow-cpu 2.9.1 cp310 wheel)", keras: ctx.raw.worker_keras,
  };
  const out = { started_at: stamp, seconds: (performance.now() - started) / 1000, sections: timings, failures, env, rows: ctx.rows, raw: ctx.raw };
  const file = join(resultsDir, `${stamp}.json`);
  writeFileSync(file, JSON.stringify(out, null, 2));
  const k = ctx.raw.worker_keras as { tensorflow?: string } | undefined;
  console.log(`\ntlrun benchmark (${env.cpus} cores, ${env.cpu_model}); tfjs-node on libtensorflow 2.9.1, Keras on TensorFlow ${k?.tensorflow ?? "(not run)"}`);
  console.log("CPU is shared: each ratio compares measurements taken back to back in the same round, median over rounds.\n");
  console.log(table(ctx.rows));
  for (const [s, msg] of Object.entries(failures)) console.log(`\nsection ${s} FAILED: ${msg}`);
  console.log(`\nwrote ${file} (log: ${logPath}); total ${(out.seconds / 60).toFixed(1)} min`);
  return Object.keys(failures).length ? 1 : 0;
}

main().then((code) => process.exit(code), (err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(2);
});
