#!/usr/bin/env node
// The sweep benchmark of issue 6: a cold `tlrun sweep` of pipelines/sweep-quickstart-head.yaml
// (20 trials) against a cold `tlrun run` of the same file (the base config once), each in its own
// empty runs folder, side by side in one session. Prints the ratio and writes
// bench/results/sweep-<time>.json. `--repeat N` runs N pairs, alternating which goes first.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const FILE = join(ROOT, "pipelines/sweep-quickstart-head.yaml");
const i = process.argv.indexOf("--repeat");
const repeat = i > 0 ? Number(process.argv[i + 1]) : 1;

function timed(command) {
  const runs = mkdtempSync(join(tmpdir(), "tlrun-bench-sweep-"));
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [join(ROOT, "bin/tlrun.js"), command, FILE, "--json", "--set", `runtime.runs_dir=${runs}`], {
    cwd: ROOT, encoding: "utf8", env: { ...process.env, CI: "true", MLFLOW_TRACKING_URI: "" }, maxBuffer: 64 << 20,
  });
  const seconds = (performance.now() - t0) / 1000;
  rmSync(runs, { recursive: true, force: true });
  if (r.status !== 0) throw new Error(`tlrun ${command} failed (${r.status}):\n${r.stderr.slice(-2000)}`);
  const out = JSON.parse(r.stdout);
  return { seconds: +seconds.toFixed(1), load: +loadavg()[0].toFixed(2), out };
}

const pairs = [];
for (let k = 0; k < repeat; k++) {
  const order = k % 2 === 0 ? ["run", "sweep"] : ["sweep", "run"];
  const got = {};
  for (const c of order) {
    process.stderr.write(`tlrun ${c} (cold) …\n`);
    got[c] = timed(c);
  }
  const trials = got.sweep.out.trials;
  const pair = {
    run_seconds: got.run.seconds, sweep_seconds: got.sweep.seconds, ratio: +(got.sweep.seconds / got.run.seconds).toFixed(2),
    trials: trials.length, completed: trials.filter((t) => t.status === "completed").length, pruned: trials.filter((t) => t.status === "pruned").length,
    best_val_accuracy: got.sweep.out.best?.value ?? null, best_test_accuracy: got.sweep.out.best?.metrics?.test_accuracy ?? null,
    run_val_stages: got.run.out.stages.map((s) => [s.name, +s.seconds.toFixed(1)]), run_test_accuracy: got.run.out.metrics.test_accuracy, load_after: [got.run.load, got.sweep.load],
  };
  pairs.push(pair);
  process.stdout.write(`pair ${k + 1}: run ${pair.run_seconds}s, sweep of ${pair.trials} trials ${pair.sweep_seconds}s (${pair.completed} completed, ${pair.pruned} pruned): ratio ${pair.ratio}× (target ≤ 2×; 20 separate runs ≈ 20×)\n`);
}
const dir = join(ROOT, "bench/results");
mkdirSync(dir, { recursive: true });
const file = join(dir, `sweep-${new Date().toISOString().replace(/[:.]/g, "-")}.json`);
writeFileSync(file, JSON.stringify({ benchmark: "cold sweep vs cold run", file: "pipelines/sweep-quickstart-head.yaml", pairs }, null, 2));
process.stdout.write(`wrote ${file}\n`);
