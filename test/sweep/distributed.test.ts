/**
 * Distributed sweeps on real servers: Redis (from Debian's redis-server; `.ci/run` installs and
 * starts it and sets TLRUN_TEST_REDIS, otherwise this test starts its own when the binary is
 * there) with BullMQ, and MLflow (the pinned venv). Three `tlrun worker` processes take trials;
 * one is killed with SIGKILL in the middle of a trial. The workers' locks last 4 s; the audit's
 * synchronous finders take about 3 s here, so a worker that ran them on its own event loop would
 * lose its lock under load and a second worker would run the same trial. Slow: skipped when TLRUN_FAST is set.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { findMlflow, freePort, startLocalServer, type LocalServer } from "../../src/tracking/local-server";
import type { RunSummary } from "../../src/runs/record";
import type { SweepOutcome } from "../../src/sweep/run";
import { tempDir, tinyEmojiDataset, tinyPipeline } from "../helpers";

const ROOT = resolve(__dirname, "../../..");
const BIN = join(ROOT, "bin/tlrun.js");
const hasRedis = spawnSync("redis-server", ["--version"]).status === 0;
const SKIP = process.env.TLRUN_FAST
  ? "slow: TLRUN_FAST is set"
  : !process.env.TLRUN_TEST_REDIS && !hasRedis && !process.env.TLRUN_REQUIRE_REDIS
    ? "needs Redis: install Debian's redis-server (apt-get install redis-server), or set TLRUN_TEST_REDIS=redis://…"
    : false;
const SLOW = { skip: SKIP, timeout: 15 * 60_000 };

let mlflow: LocalServer | undefined;
let mlflowDir = "";
let redis: ChildProcess | undefined;
let redisUrl = "";

before(async () => {
  if (SKIP) return;
  const bin = findMlflow() ?? spawnSync(process.execPath, [join(ROOT, "scripts/mlflow/setup.mjs")], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] }).stdout.trim();
  mlflowDir = mkdtempSync(join(tmpdir(), "tlrun-mlflow-sweep-"));
  mlflow = await startLocalServer(bin, mlflowDir, await freePort());
  if (process.env.TLRUN_TEST_REDIS) redisUrl = process.env.TLRUN_TEST_REDIS;
  else {
    assert.ok(hasRedis, "TLRUN_REQUIRE_REDIS is set but there is no redis-server on PATH and no TLRUN_TEST_REDIS");
    const port = await freePort();
    redis = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], { stdio: "ignore" });
    redisUrl = `redis://127.0.0.1:${port}`;
    for (let i = 0; i < 50 && spawnSync("redis-cli", ["-p", String(port), "ping"], { encoding: "utf8" }).stdout?.trim() !== "PONG"; i++) await new Promise((r) => setTimeout(r, 100));
  }
});

after(async () => {
  redis?.kill();
  await mlflow?.stop();
  if (mlflowDir) rmSync(mlflowDir, { recursive: true, force: true });
});

async function api<T = Record<string, any>>(path: string, body?: unknown, query: Record<string, string> = {}): Promise<T> {
  const url = `${mlflow!.uri}/api/2.0/mlflow/${path}?${new URLSearchParams(query)}`;
  const init = body ? { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) } : undefined;
  let res: Response;
  try {
    res = await fetch(url, init);
  } catch {
    res = await fetch(url, init); // an idle keep-alive socket closed by uvicorn
  }
  assert.equal(res.status, 200, `${path}: ${await res.clone().text()}`);
  return (await res.json()) as T;
}

const tags = (run: any): Record<string, string> => Object.fromEntries((run.data.tags ?? []).map((t: { key: string; value: string }) => [t.key, t.value]));

function tlrunAsync(args: string[], cwd: string, env: Record<string, string>): { child: ChildProcess; out: () => string; err: () => string; done: Promise<number | null> } {
  const child = spawn(process.execPath, [BIN, ...args], { cwd, env: { ...process.env, CI: "true", ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let out = "", err = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (err += d));
  return { child, out: () => out, err: () => err, done: new Promise((r) => child.on("exit", (code) => r(code))) };
}

test("three workers on a BullMQ queue, one killed mid-trial: every trial completes once, as in a serial run", SLOW, async (t) => {
  const root = tempDir(t);
  const data = tinyEmojiDataset(join(root, "data"));
  const file = join(root, "p.yaml");
  const experiment = `sweep-${Date.now()}`;
  writeFileSync(file, tinyPipeline(data, join(root, "runs"), `tracking: { experiment: ${experiment} }
sweep:
  method: random
  max_trials: 5
  seed: 11
  parameters:
    head.layers.0.dropout: { min: 0.0, max: 0.5 }
    train.head.learning_rate: { min: 1.0e-3, max: 3.0e-2, log: true }
`).replace("  fine_tune: { epochs: 1, batch_size: 8 }", "  fine_tune: null").replace("  head: { epochs: 2, batch_size: 8, learning_rate: 0.01 }", "  head: { epochs: 300, batch_size: 8, learning_rate: 0.01 }"));
  const queue = `tlrun-test-${process.pid}-${Date.now()}`;
  const env = { MLFLOW_TRACKING_URI: mlflow!.uri, MLFLOW_HTTP_REQUEST_MAX_RETRIES: "2" };
  const workers = [0, 1, 2].map(() => tlrunAsync(["worker", "--queue", redisUrl, "--name", queue, "--lock-seconds", "4"], root, env));
  t.after(() => workers.forEach((w) => w.child.kill("SIGKILL")));
  const sweep = tlrunAsync(["sweep", file, "--queue", redisUrl, "--queue-name", queue, "--json"], root, env);

  // Kill the first worker seen starting a trial, a moment into it.
  let killed: { pid: number; trial: number } | undefined;
  for (let i = 0; i < 3000 && !killed; i++) {
    await new Promise((r) => setTimeout(r, 100));
    for (const w of workers) {
      const m = /trial (\d+) of sweep/.exec(w.err());
      if (m && w.child.exitCode === null) {
        await new Promise((r) => setTimeout(r, 1500));
        w.child.kill("SIGKILL");
        killed = { pid: w.child.pid!, trial: Number(m[1]) };
        break;
      }
    }
  }
  assert.ok(killed, "a worker started a trial");
  const code = await sweep.done;
  assert.equal(code, 0, sweep.err());
  const out = JSON.parse(sweep.out()) as SweepOutcome;
  assert.deepEqual(out.trials.map((x) => x.status), ["completed", "completed", "completed", "completed", "completed"]);

  // The killed trial has two attempts: the killed one, and a retry on another worker.
  const runsDir = join(root, "runs");
  const attempts = readdirSync(runsDir).filter((n) => existsSync(join(runsDir, n, "summary.json")))
    .map((n) => JSON.parse(readFileSync(join(runsDir, n, "summary.json"), "utf8")) as RunSummary)
    .filter((s) => s.sweep?.trial === killed!.trial);
  // Each trial runs in a child of its worker, which exits with it; the record holds the child's pid.
  const logs = (): string => workers.map((w, i) => `worker ${i} (pid ${w.child.pid}):\n${w.err()}`).join("\n");
  assert.ok(attempts.length >= 2, `trial ${killed.trial} has ${attempts.length} attempt(s)\n${logs()}`);
  const completed = attempts.filter((s) => s.status === "completed");
  assert.equal(completed.length, 1, logs());
  assert.ok(attempts.some((s) => s.status !== "completed" && s.pid !== completed[0]!.pid), `the killed attempt ran in another process\n${logs()}`);

  // MLflow: one parent; one FINISHED child per trial; the killed attempt shows KILLED, not RUNNING.
  const exp = await api("experiments/get-by-name", undefined, { experiment_name: experiment });
  const runs = (await api<{ runs?: any[] }>("runs/search", { experiment_ids: [exp.experiment.experiment_id], max_results: 100 })).runs ?? [];
  const parent = runs.find((r) => tags(r)["tlrun.run_id"] === out.sweep_id);
  assert.ok(parent, "the sweep's parent run");
  assert.equal(parent.info.status, "FINISHED");
  const children = runs.filter((r) => tags(r)["mlflow.parentRunId"] === parent.info.run_id);
  for (let trial = 1; trial <= 5; trial++) {
    const mine = children.filter((r) => tags(r)["tlrun.trial"] === String(trial));
    assert.equal(mine.filter((r) => r.info.status === "FINISHED").length, 1, `trial ${trial} finished exactly once\n${logs()}`);
    assert.ok(mine.every((r) => r.info.status !== "RUNNING"), `trial ${trial}: ${mine.map((r) => r.info.status).join(",")}`);
  }
  assert.ok(children.some((r) => tags(r)["tlrun.trial"] === String(killed!.trial) && r.info.status === "KILLED"), `the killed attempt is marked KILLED: ${JSON.stringify(children.filter((r) => tags(r)["tlrun.trial"] === String(killed!.trial)).map((r) => r.info.status))} ${JSON.stringify(attempts.map((s) => [s.pid, s.status]))}\n${logs()}`);
  const parentMetrics = Object.fromEntries(parent.data.metrics.map((m: { key: string; value: number }) => [m.key, m.value]));
  assert.equal(parentMetrics.best_val_accuracy, out.best!.value);
  assert.equal(parentMetrics.trials_completed, 5);
  const listed = await api<{ files?: Array<{ path: string }> }>("artifacts/list", undefined, { run_id: parent.info.run_id, path: "sweep" });
  assert.deepEqual((listed.files ?? []).map((f) => f.path).sort(), ["sweep/best.json", "sweep/best.yaml", "sweep/trials.csv", "sweep/trials.png"]);
  assert.equal(tags(parent)["tlrun.best.run_id"], out.best!.run_id);

  // A serial run of the same sweep, in its own runs folder, without MLflow: the same trials and results.
  const serial = spawnSync(process.execPath, [BIN, "sweep", file, "--json", "--set", `runtime.runs_dir=${join(root, "runs-serial")}`], { cwd: root, encoding: "utf8", env: { ...process.env, CI: "true", MLFLOW_TRACKING_URI: "" } });
  assert.equal(serial.status, 0, serial.stderr);
  const s = JSON.parse(serial.stdout) as SweepOutcome;
  assert.deepEqual(out.trials.map((x) => [x.trial, x.params, x.value, x.metrics.test_accuracy]), s.trials.map((x) => [x.trial, x.params, x.value, x.metrics.test_accuracy]));
  t.diagnostic(`killed worker ${killed.pid} in trial ${killed.trial}; ${attempts.length} attempts; best val_accuracy ${out.best!.value}`);
});
