/**
 * `tlrun sweep` end to end on real emoji images: trials share cached stages, local worker
 * processes give the same results as one process, ASHA prunes, and an interrupted sweep resumes.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { RunSummary } from "../../src/runs/record";
import type { SweepOutcome } from "../../src/sweep/run";
import type { SweepState } from "../../src/sweep/record";
import { PRUNING_SWEEP, tempDir, tinyEmojiDataset, tinyPipeline } from "../helpers";

const ROOT = resolve(__dirname, "../../..");
const BIN = join(ROOT, "bin/tlrun.js");
const TIMEOUT = { timeout: 10 * 60_000 };

function tlrun(args: string[], cwd: string) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: "utf8", env: { ...process.env, CI: "true", MLFLOW_TRACKING_URI: "" } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function setup(t: import("node:test").TestContext, sweep: string, runs = "runs") {
  const root = tempDir(t);
  const data = tinyEmojiDataset(join(root, "data"));
  const file = join(root, "p.yaml");
  writeFileSync(file, tinyPipeline(data, join(root, runs), sweep).replace("  fine_tune: { epochs: 1, batch_size: 8 }", "  fine_tune: null"));
  return { root, file, data };
}

const summaryOf = (dir: string): RunSummary => JSON.parse(readFileSync(join(dir, "summary.json"), "utf8"));

const GRID = `sweep:
  method: grid
  parameters:
    head.layers.0.dropout: { values: [0.0, 0.3, 0.6] }
    train.head.learning_rate: { values: [0.01] }
`;

test("a grid sweep extracts once, runs one head per trial, and records the comparison", TIMEOUT, (t) => {
  const { root, file } = setup(t, GRID);
  const plan = tlrun(["plan", file], root);
  assert.equal(plan.code, 0, plan.stderr);
  assert.match(plan.stdout, /sweep: grid, 3 trials, 1 at a time, by val_accuracy \(maximize\)/);
  assert.match(plan.stdout, /extract\s+1 run\(s\)\s+shared by all 3 trials/);
  assert.match(plan.stdout, /train-head\s+3 run\(s\)\s+one per trial/);
  assert.match(plan.stdout, /9 stage runs instead of 15 for 3 separate runs/);

  const r = tlrun(["sweep", file, "--json"], root);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as SweepOutcome;
  assert.equal(out.trials.length, 3);
  assert.deepEqual(out.trials.map((x) => x.params["head.layers.0.dropout"]), [0, 0.3, 0.6]);
  assert.ok(out.trials.every((x) => x.status === "completed" && typeof x.value === "number" && typeof x.metrics.test_accuracy === "number"));
  const best = Math.max(...out.trials.map((x) => x.value!));
  assert.equal(out.best!.value, best);
  assert.deepEqual(Object.keys(out).sort(), ["best", "goal", "metric", "seconds", "status", "sweep_dir", "sweep_id", "trials"]);

  const stages = out.trials.map((x) => Object.fromEntries(summaryOf(join(root, "runs", x.run_id!)).stages.map((s) => [s.name, s.cached])));
  assert.deepEqual(stages[0], { dataset: true, weights: true, prepare: false, extract: false, audit: false, "train-head": false, evaluate: false });
  for (const s of stages.slice(1)) assert.deepEqual(s, { dataset: true, weights: true, prepare: true, extract: true, audit: true, "train-head": false, evaluate: false });
  for (const x of out.trials) assert.deepEqual(summaryOf(join(root, "runs", x.run_id!)).sweep, { id: out.sweep_id, trial: x.trial });

  const csv = readFileSync(join(out.sweep_dir, "sweep", "trials.csv"), "utf8").trim().split("\n");
  assert.equal(csv.length, 4);
  assert.match(csv[0]!, /^trial,status,head.layers.0.dropout,train.head.learning_rate,val_accuracy,/);
  assert.ok(readFileSync(join(out.sweep_dir, "sweep", "trials.png")).subarray(1, 4).equals(Buffer.from("PNG")));
  assert.equal(JSON.parse(readFileSync(join(out.sweep_dir, "sweep", "best.json"), "utf8")).trial, out.best!.trial);
  // best.yaml: the best trial's full config, runnable from any folder, every stage from the cache
  const bestYaml = join(out.sweep_dir, "sweep", "best.yaml");
  assert.match(readFileSync(bestYaml, "utf8"), /^sweep: null$/m);
  assert.match(readFileSync(bestYaml, "utf8"), new RegExp(`^ {6}dropout: ${out.best!.params["head.layers.0.dropout"]}$`, "m"));
  const elsewhere = mkdtempSync(join(tmpdir(), "tlrun-best-"));
  t.after(() => rmSync(elsewhere, { recursive: true, force: true }));
  assert.equal(tlrun(["validate", bestYaml], elsewhere).code, 0);
  const rerun = tlrun(["run", bestYaml, "--json"], elsewhere);
  assert.equal(rerun.code, 0, rerun.stderr);
  const rerunSummary = JSON.parse(rerun.stdout) as RunSummary;
  assert.ok(rerunSummary.stages.every((s) => s.cached), "the best trial's stages, from the cache");
  assert.equal(rerunSummary.metrics.test_accuracy, out.best!.metrics.test_accuracy);
  assert.equal(summaryOf(out.sweep_dir).status, "completed");

  // The same sweep again: every stage of every trial comes from the cache.
  const again = JSON.parse(tlrun(["sweep", file, "--json"], root).stdout) as SweepOutcome;
  assert.deepEqual(again.trials.map((x) => x.value), out.trials.map((x) => x.value));
  for (const x of again.trials) assert.ok(summaryOf(join(root, "runs", x.run_id!)).stages.every((s) => s.cached));

  // Two local worker processes, in a fresh runs folder: the same trials give the same results.
  const fresh = join(root, "runs-parallel");
  const par = tlrun(["sweep", file, "--json", "--parallel", "2", "--set", `runtime.runs_dir=${fresh}`], root);
  assert.equal(par.code, 0, par.stderr);
  const p = JSON.parse(par.stdout) as SweepOutcome;
  assert.deepEqual(p.trials.map((x) => [x.trial, x.params, x.value]), out.trials.map((x) => [x.trial, x.params, x.value]));
  // outside a TTY the lines of parallel trials interleave, so each carries its trial
  const progress = par.stderr.split("\n").filter((l) => l.startsWith("›"));
  assert.ok(progress.length >= 6, par.stderr);
  for (const l of progress) assert.match(l, /^› trial \d: /);
  const pids = new Set(p.trials.map((x) => summaryOf(join(fresh, x.run_id!)).pid));
  assert.equal(pids.size, 2, "trials ran in two worker processes");
});

test("ASHA stops a trial that lags at a rung, and keeps it as pruned", TIMEOUT, (t) => {
  const { root, file } = setup(t, PRUNING_SWEEP);
  const r = tlrun(["sweep", file, "--json"], root);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as SweepOutcome;
  assert.deepEqual(out.trials.map((x) => x.status), ["completed", "pruned"]);
  assert.equal(out.goal, "minimize");
  // the task list marks the pruned trial apart from a finished one
  assert.match(r.stderr, /^✔ trial 1 .*: val_loss \d/m);
  assert.match(r.stderr, /^↓ trial 2 .*✂ pruned after 2 epochs val_loss \d/m);
  assert.doesNotMatch(r.stderr, /^✔ trial 2/m);
  const pruned = out.trials[1]!;
  const s = summaryOf(join(root, "runs", pruned.run_id!));
  assert.equal(s.status, "pruned");
  const epochs = readFileSync(join(root, "runs", pruned.run_id!, "metrics.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l)).filter((m) => m.type === "epoch");
  assert.equal(epochs.length, 2, "stopped at the first rung");
  const state = JSON.parse(readFileSync(join(out.sweep_dir, "sweep.json"), "utf8")) as SweepState;
  assert.deepEqual(Object.keys(state.trials[1]!.rungs), ["2"]);
  assert.ok(!existsSync(join(root, "runs", ".cache", "train-head")) || readdirSync(join(root, "runs", ".cache", "train-head")).filter((n) => !n.endsWith(".lock")).length === 1, "a pruned head is not cached as complete");
});

test("an interrupted sweep resumes where it stopped, keeping finished trials", TIMEOUT, async (t) => {
  const { root, file } = setup(t, `sweep:
  method: grid
  parameters:
    head.layers.0.dropout: { values: [0.0, 0.2, 0.4] }
    train.head.epochs: { values: [150] }
`);
  // a --set flag changes the sweep's fingerprint, so the resume command must carry it
  const child = spawn(process.execPath, [BIN, "sweep", file, "--set", "train.head.batch_size=16"], { cwd: root, env: { ...process.env, CI: "true", MLFLOW_TRACKING_URI: "" }, stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += d));
  const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
  const runs = join(root, "runs");
  // Interrupt once trial 2 has started.
  for (let i = 0; i < 1200; i++) {
    await new Promise((r) => setTimeout(r, 100));
    const started = existsSync(runs) && readdirSync(runs).some((n) => {
      try {
        return summaryOf(join(runs, n)).sweep?.trial === 2;
      } catch {
        return false;
      }
    });
    if (started) break;
  }
  child.kill("SIGINT");
  assert.equal(await exited, 130, stderr);
  assert.match(stderr, /interrupted/);
  const sweepDir = readdirSync(runs).map((n) => join(runs, n)).find((d) => existsSync(join(d, "sweep.json")))!;
  const before = JSON.parse(readFileSync(join(sweepDir, "sweep.json"), "utf8")) as SweepState;
  assert.equal(before.status, "interrupted");
  assert.equal(before.trials[0]!.status, "completed");
  assert.equal(before.trials[1]!.status, "pending");

  const without = tlrun(["sweep", file, "--resume"], root);
  assert.equal(without.code, 2, "resuming without the --set flag is refused: " + without.stderr);
  const hint = /To resume, run:\n {2}(.+)\n/.exec(stderr)?.[1];
  assert.ok(hint, stderr);
  assert.match(hint, new RegExp(`sweep \\S*p\\.yaml --set train\\.head\\.batch_size=16 --resume --id ${before.sweep_id}$`));
  const pasted = spawnSync("sh", ["-c", `${hint} --json`], { cwd: root, encoding: "utf8", env: { ...process.env, CI: "true", MLFLOW_TRACKING_URI: "" } });
  assert.equal(pasted.status, 0, pasted.stderr);
  const out = JSON.parse(pasted.stdout) as SweepOutcome;
  assert.equal(out.sweep_id, before.sweep_id);
  assert.deepEqual(out.trials.map((x) => x.status), ["completed", "completed", "completed"]);
  assert.equal(out.trials[0]!.run_id, before.trials[0]!.run_id, "trial 1 was not run again");
  assert.equal(tlrun(["sweep", file, "--resume"], root).code, 2, "nothing left to resume");
});

test("an unreachable queue is a plain error, and leaves no half-made sweep behind", TIMEOUT, (t) => {
  const { root, file } = setup(t, GRID);
  const r = tlrun(["sweep", file, "--queue", "redis://127.0.0.1:1"], root);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^tlrun: cannot reach Redis at redis:\/\/127.0.0.1:1 .*start it/m);
  assert.doesNotMatch(r.stderr, /\n\s+at /, "no stack trace");
  assert.ok(!existsSync(join(root, "runs")) || readdirSync(join(root, "runs")).every((n) => !existsSync(join(root, "runs", n, "sweep.json"))));
});
