/**
 * Against a real MLflow server (never a fake): started here from tlrun's venv (installed by
 * scripts/mlflow/setup.mjs on first use) over a temporary SQLite file and artifact folder.
 * Slow: skipped when TLRUN_FAST is set.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { findMlflow, freePort, startLocalServer, type LocalServer } from "../../src/tracking/local-server";
import { loadState, saveState } from "../../src/tracking/state";
import { runFolders } from "../../src/tracking/local-runs";
import { PRUNING_SWEEP, tempDir, tinyEmojiDataset, tinyPipeline } from "../helpers";

const SLOW = { skip: process.env.TLRUN_FAST ? "slow: TLRUN_FAST is set" : false, timeout: 10 * 60_000 };
const ROOT = resolve(__dirname, "../../..");
const BIN = join(ROOT, "bin/tlrun.js");

let server: LocalServer | undefined;
let serverDir = "";
let port = 0;
let mlflowBin = "";

async function startServer(): Promise<void> {
  server = await startLocalServer(mlflowBin, serverDir, port);
}

before(async () => {
  if (process.env.TLRUN_FAST) return;
  mlflowBin = findMlflow() ?? spawnSync(process.execPath, [join(ROOT, "scripts/mlflow/setup.mjs")], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] }).stdout.trim();
  serverDir = mkdtempSync(join(tmpdir(), "tlrun-mlflow-"));
  port = await freePort();
  await startServer();
});

after(async () => {
  await server?.stop();
  if (serverDir && !process.env.TLRUN_KEEP_MLFLOW_DIR) rmSync(serverDir, { recursive: true, force: true });
});

function tlrun(args: string[], cwd: string, env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd, encoding: "utf8",
    env: { ...process.env, CI: "true", MLFLOW_TRACKING_URI: server!.uri, MLFLOW_HTTP_REQUEST_MAX_RETRIES: "2", MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR: "0.4", ...env },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * fetch, tried twice: uvicorn drops idle keep-alive sockets after 5 s, and while spawnSync blocks
 * this process undici cannot notice, so the first request after a CLI call may hit a closed socket.
 */
async function fetchAgain(url: string, init?: RequestInit): Promise<Response> {
  try {
    return await fetch(url, init);
  } catch {
    return fetch(url, init);
  }
}

async function api<T = Record<string, any>>(path: string, query: Record<string, string> = {}): Promise<T> {
  const res = await fetchAgain(`${server!.uri}/api/2.0/mlflow/${path}?${new URLSearchParams(query)}`);
  assert.equal(res.status, 200, `${path}: ${await res.clone().text()}`);
  return (await res.json()) as T;
}

function setup(t: import("node:test").TestContext, experiment: string) {
  const root = tempDir(t);
  const data = tinyEmojiDataset(join(root, "data"));
  const file = join(root, "p.yaml");
  writeFileSync(file, tinyPipeline(data, join(root, "runs"), `tracking:\n  experiment: ${experiment}\n  tags: { team: vision }\n`));
  return { root, file, data };
}

const serverRunId = (runDir: string): string => Object.values(loadState(runDir).servers)[0]!.run_id!;

/** Every artifact path under a run, recursively. */
async function artifacts(runId: string, path = ""): Promise<string[]> {
  const r = await api<{ files?: Array<{ path: string; is_dir: boolean }> }>("artifacts/list", { run_id: runId, path });
  const out: string[] = [];
  for (const f of r.files ?? []) out.push(...(f.is_dir ? await artifacts(runId, f.path) : [f.path]));
  return out.sort();
}

async function history(runId: string, key: string): Promise<Array<{ step: number; value: number | string }>> {
  return ((await api("metrics/get-history", { run_id: runId, metric_key: key })).metrics ?? []).map((m: { step: string; value: number }) => ({ step: Number(m.step), value: m.value }));
}

/** The whole run as the server holds it; the checks every test shares. */
async function expectComplete(runDir: string, status = "FINISHED"): Promise<{ runId: string; run: any }> {
  const runId = serverRunId(runDir);
  const { run } = await api("runs/get", { run_id: runId });
  assert.equal(run.info.status, status);
  const params = Object.fromEntries(run.data.params.map((p: { key: string; value: string }) => [p.key, p.value]));
  assert.equal(params["train.head.learning_rate"], "0.01");
  assert.equal(params["head.layers.0.units"], "16");
  const tags = Object.fromEntries(run.data.tags.map((p: { key: string; value: string }) => [p.key, p.value]));
  for (const k of ["mlflow.source.name", "mlflow.user", "tlrun.version", "tlrun.config_sha256", "tlrun.run_id"]) assert.ok(tags[k], `tag ${k}`);
  assert.equal(tags.team, "vision");
  const epochs = readFileSync(join(runDir, "metrics.jsonl"), "utf8").split("\n").filter((l) => l.includes('"epoch"')).length;
  for (const key of ["epoch/train_loss", "epoch/val_accuracy", "epoch/learning_rate", "images_per_second"]) {
    const h = await history(runId, key);
    assert.deepEqual(h.map((m) => m.step).sort((a, b) => a - b), Array.from({ length: epochs }, (_, i) => i + 1), `${key} has one point per epoch`);
  }
  return { runId, run };
}

test("a run logs params, tags, per-epoch history, test metrics, dataset and artifacts; MLflow's own client sees them", SLOW, async (t) => {
  const { root, file } = setup(t, "tlrun-e2e");
  const r = tlrun([file, "--json"], root);
  assert.equal(r.code, 0, r.stderr);
  const summary = JSON.parse(r.stdout);
  const { runId, run } = await expectComplete(summary.run_dir);
  assert.equal((await history(runId, "test_accuracy"))[0]!.value, summary.metrics.test_accuracy);
  const configSha = run.data.tags.find((x: { key: string }) => x.key === "tlrun.config_sha256").value as string;
  assert.equal(run.info.run_name, `tiny-${configSha.slice(0, 7)}-1`, "named <pipeline>-<config hash>-<n>");
  assert.equal(run.inputs.dataset_inputs.length, 1);
  // stage timings are tags and a table, never metric charts ahead of the training curves
  const metricKeys = run.data.metrics.map((m: { key: string }) => m.key) as string[];
  assert.deepEqual(metricKeys.filter((k) => k.startsWith("stage") || k === "run_seconds"), []);
  const tags = Object.fromEntries(run.data.tags.map((x: { key: string; value: string }) => [x.key, x.value]));
  assert.match(tags["tlrun.stages_cached"], new RegExp(`^\\d of ${summary.stages.length}$`));
  for (const s of summary.stages as Array<{ name: string }>) assert.match(tags[`tlrun.stage.${s.name}`], /^(\d+\.\d s|cached)$/, s.name);
  const files = await artifacts(runId);
  const table = await fetchAgain(`${server!.uri}/api/2.0/mlflow-artifacts/artifacts/${run.info.experiment_id}/${runId}/artifacts/stages.json`);
  assert.deepEqual(((await table.json()) as { stages: Array<{ stage: string }> }).stages.map((r) => r.stage), summary.stages.map((s: { name: string }) => s.name));
  for (const f of ["config.resolved.yaml", "manifest.json", "report.json", "report.html", "plots/confusion_matrix.png", "plots/training_curves.png", "model/model.json", "model/weights.bin"]) assert.ok(files.includes(f), `${f} in ${files}`);
  const png = await fetchAgain(`${server!.uri}/api/2.0/mlflow-artifacts/artifacts/${run.info.experiment_id}/${runId}/artifacts/plots/training_curves.png`);
  assert.deepEqual([...new Uint8Array(await png.arrayBuffer()).slice(1, 4)], [0x50, 0x4e, 0x47]);

  const python = mlflowBin.includes("/") ? join(dirname(mlflowBin), "python") : "python3";
  const script = `
import json, mlflow
from mlflow import MlflowClient
runs = mlflow.search_runs(experiment_names=["tlrun-e2e"], filter_string="tags.\`tlrun.run_id\` = '${summary.run_id}'")
c = MlflowClient()
rid = runs["run_id"][0]
print(json.dumps({"n": len(runs), "status": runs["status"][0], "lr": runs["params.train.head.learning_rate"][0],
  "test_accuracy": float(runs["metrics.test_accuracy"][0]),
  "history": [m.step for m in c.get_metric_history(rid, "epoch/val_loss")],
  "artifacts": sorted(a.path for a in c.list_artifacts(rid)), "plots": sorted(a.path for a in c.list_artifacts(rid, "plots"))}))`;
  const py = spawnSync(python, ["-c", script], { encoding: "utf8", env: { ...process.env, MLFLOW_TRACKING_URI: server!.uri } });
  assert.equal(py.status, 0, py.stderr);
  const seen = JSON.parse(py.stdout.trim().split("\n").pop()!);
  assert.equal(seen.n, 1);
  assert.equal(seen.status, "FINISHED");
  assert.equal(seen.lr, "0.01");
  assert.equal(seen.test_accuracy, summary.metrics.test_accuracy);
  assert.deepEqual(seen.history, [1, 2, 3]);
  assert.ok(seen.artifacts.includes("model") && seen.artifacts.includes("report.json"));
  for (const f of ["plots/confusion_matrix.png", "plots/training_curves.png"]) assert.ok(seen.plots.includes(f), `${f} in ${seen.plots}`);

  // without --json the run ends with its table, which links the run's page in the MLflow UI
  const again = tlrun([file], root);
  assert.equal(again.code, 0, again.stderr);
  const url = /^mlflow: (http:\/\/\S+\/#\/experiments\/(\d+)\/runs\/([0-9a-f]+))$/m.exec(again.stdout);
  assert.ok(url, again.stdout);
  assert.equal(url[2], run.info.experiment_id);
  const linked = await fetchAgain(`${server!.uri}/api/2.0/mlflow/runs/get?run_id=${url[3]}`);
  assert.equal(linked.status, 200, "the linked run exists");
  assert.equal(((await linked.json()) as { run: { data: { tags: Array<{ key: string; value: string }> } } }).run.data.tags.find((tag) => tag.key === "tlrun.status")?.value, "completed");
  // that re-run was fully cached: no second MLflow run, and the terminal names the one that holds it
  assert.equal(url[3], runId);
  assert.match(again.stderr, new RegExp(`every stage was cached, so no new MLflow run: run .*/runs/${runId}.* already holds this result`));
  assert.equal((await runsOf("tlrun-e2e")).length, 1);
  // a partly cached run still logs
  const partly = tlrun([file, "--set", "train.fine_tune.epochs=2"], root);
  assert.equal(partly.code, 0, partly.stderr);
  assert.doesNotMatch(partly.stderr, /no new MLflow run/);
  assert.equal((await runsOf("tlrun-e2e")).length, 2);
  // a forced run of the first config is its second run; MLFLOW_RUN_NAME is a template too
  const forced = tlrun([file, "--force"], root, { MLFLOW_RUN_NAME: "{name}-{hash}-s{seed}-{n}" });
  assert.equal(forced.code, 0, forced.stderr);
  assert.ok((await runsOf("tlrun-e2e")).some((x) => x.info.run_name === `tiny-${configSha.slice(0, 7)}-s7-2`), "n counts runs of the config");
});

/** The runs of an experiment, by name. */
async function runsOf(experiment: string): Promise<Array<{ info: { run_id: string; run_name: string; status: string }; data: { tags?: Array<{ key: string; value: string }> } }>> {
  const { experiment_id } = (await api("experiments/get-by-name", { experiment_name: experiment })).experiment;
  const res = await fetchAgain(`${server!.uri}/api/2.0/mlflow/runs/search`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ experiment_ids: [experiment_id] }) });
  return ((await res.json()) as { runs?: [] }).runs ?? [];
}

test("server down during the run: the run finishes, sync sends everything exactly once, twice is a no-op", SLOW, async (t) => {
  const { root, file } = setup(t, "tlrun-outage");
  await server!.stop();
  const r = tlrun([file, "--json"], root);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /tlrun sync/);
  const runDir = JSON.parse(r.stdout).run_dir as string;
  await startServer();

  const sync1 = tlrun(["sync", "--all", "--runs-dir", join(root, "runs")], root);
  assert.equal(sync1.code, 0, sync1.stderr);
  const { runId } = await expectComplete(runDir);
  const before = await artifacts(runId);
  const counts = async () => Promise.all(["epoch/train_loss", "epoch/val_loss", "test_accuracy", "epoch_seconds"].map(async (k) => (await history(runId, k)).length));
  const n1 = await counts();

  const sync2 = tlrun(["sync", JSON.parse(r.stdout).run_id, "--runs-dir", join(root, "runs")], root);
  assert.equal(sync2.code, 0, sync2.stderr);
  assert.match(sync2.stderr, /nothing new/);

  // A batch the server applied but whose answer was lost: its points are in flight, not acknowledged.
  const state = loadState(runDir);
  const s = Object.values(state.servers)[0]!;
  s.inflight = s.acked.metrics.filter((id) => id.startsWith("epoch/train_loss@") || id.startsWith("test_accuracy@"));
  s.acked.metrics = s.acked.metrics.filter((id) => !s.inflight.includes(id));
  saveState(runDir, state);
  const sync3 = tlrun(["sync", runDir], root);
  assert.equal(sync3.code, 0, sync3.stderr);
  assert.deepEqual(await counts(), n1);
  assert.equal(n1[0], 3);
  assert.equal(n1[2], 1);
  assert.deepEqual(await artifacts(runId), before);
  const runs = (await fetchAgain(`${server!.uri}/api/2.0/mlflow/runs/search`, { method: "POST", headers: { "content-type": "application/json" },
    body: JSON.stringify({ experiment_ids: [(await api("experiments/get-by-name", { experiment_name: "tlrun-outage" })).experiment.experiment_id] }) }).then((x) => x.json() as Promise<{ runs: unknown[] }>)).runs;
  assert.equal(runs.length, 1, "one MLflow run, however often it was synced");
});

test("a failing run ends FAILED on the server, with its error as a tag", SLOW, async (t) => {
  const { root, file, data } = setup(t, "tlrun-failed");
  writeFileSync(join(data, "flags", "zz-bad.png"), "not an image");
  const r = tlrun([file, "--set", "data.on_bad_image=fail"], root);
  assert.equal(r.code, 1, r.stderr);
  const [runDir] = runFolders(join(root, "runs"));
  assert.equal(JSON.parse(readFileSync(join(runDir!, "summary.json"), "utf8")).status, "failed");
  const { run } = await api("runs/get", { run_id: serverRunId(runDir!) });
  assert.equal(run.info.status, "FAILED");
  const tags = Object.fromEntries(run.data.tags.map((x: { key: string; value: string }) => [x.key, x.value]));
  assert.match(tags["tlrun.error"], /cannot be decoded/);
});

/** Start the CLI without waiting; resolves the exit code when it ends. */
function tlrunAsync(args: string[], cwd: string) {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd, env: { ...process.env, CI: "true", MLFLOW_TRACKING_URI: server!.uri, MLFLOW_HTTP_REQUEST_MAX_RETRIES: "2", MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR: "0.4" },
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => (stdout += d));
  child.stderr.on("data", (d) => (stderr += d));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((r) => child.on("close", (code) => r({ code, stdout, stderr })));
  return { child, done };
}

/** Wait until the run in `runsDir` has a server run with some metric points acknowledged. */
async function untilLogging(runsDir: string): Promise<string> {
  const deadline = Date.now() + 180_000;
  for (;;) {
    for (const dir of existsSync(runsDir) ? runFolders(runsDir) : []) {
      const s = Object.values(loadState(dir).servers)[0];
      const summary = JSON.parse(readFileSync(join(dir, "summary.json"), "utf8"));
      if (s?.run_id && s.acked.metrics.length > 0 && summary.status === "running") return dir;
    }
    if (Date.now() > deadline) throw new Error("the run never started logging to the server");
    await new Promise((r) => setTimeout(r, 100));
  }
}

function longer(file: string): void {
  writeFileSync(file, readFileSync(file, "utf8").replace("head: { epochs: 2,", "head: { epochs: 1500,"));
}

test("server stopped mid-run: the run finishes; after a restart, sync leaves every point exactly once", SLOW, async (t) => {
  const { root, file } = setup(t, "tlrun-midrun");
  longer(file);
  const run = tlrunAsync([file, "--json"], root);
  const runDir = await untilLogging(join(root, "runs"));
  await server!.stop();
  const r = await run.done;
  assert.ok(JSON.parse(r.stdout).stages.length === 9, "the run went on after the server stopped");
  assert.equal(r.code, 0, r.stderr);
  await startServer();
  const sync = tlrun(["sync", runDir], root);
  assert.equal(sync.code, 0, sync.stderr);
  const { runId } = await expectComplete(runDir);
  const epochs = readFileSync(join(runDir, "metrics.jsonl"), "utf8").split("\n").filter((l) => l.includes('"epoch"')).length;
  assert.equal((await history(runId, "epoch/val_loss")).length, epochs);
  assert.equal((await history(runId, "test_accuracy")).length, 1);
  assert.ok((await artifacts(runId)).includes("model/model.json"));
  const again = tlrun(["sync", runDir], root);
  assert.match(again.stderr, /nothing new/);
});

test("a run killed outright (SIGKILL) ends KILLED on the server after sync", SLOW, async (t) => {
  const { root, file } = setup(t, "tlrun-killed");
  longer(file);
  const run = tlrunAsync([file, "--json"], root);
  const runDir = await untilLogging(join(root, "runs"));
  run.child.kill("SIGKILL");
  await run.done;
  assert.equal(JSON.parse(readFileSync(join(runDir, "summary.json"), "utf8")).status, "running", "killed before it finished");
  const sync = tlrun(["sync", runDir], root);
  assert.equal(sync.code, 0, sync.stderr);
  const { run: info } = await api("runs/get", { run_id: serverRunId(runDir) });
  assert.equal(info.info.status, "KILLED");
});

test("Ctrl-C ends the run KILLED on the server, without a sync", SLOW, async (t) => {
  const { root, file } = setup(t, "tlrun-interrupted");
  longer(file);
  const run = tlrunAsync([file, "--json"], root);
  const runDir = await untilLogging(join(root, "runs"));
  run.child.kill("SIGINT");
  const r = await run.done;
  assert.equal(r.code, 130, r.stderr);
  const { run: info } = await api("runs/get", { run_id: serverRunId(runDir) });
  assert.equal(info.info.status, "KILLED");
});

test("tlrun ui serves MLflow over a SQLite file in runs/ with the local runs synced, and prints the URL", SLOW, async (t) => {
  const { root, file } = setup(t, "tlrun-ui");
  const local = spawnSync(process.execPath, [BIN, file, "--json"], { cwd: root, encoding: "utf8", env: { ...process.env, CI: "true", MLFLOW_TRACKING_URI: "" } });
  assert.equal(local.status, 0, local.stderr);
  const runsDir = join(root, "runs");
  const ui = spawn(process.execPath, [BIN, "ui", "--runs-dir", runsDir, "--port", String(await freePort())], { cwd: root, env: { ...process.env, MLFLOW_TRACKING_URI: "" } });
  let out = "";
  let err = "";
  ui.stdout.on("data", (d) => (out += d));
  ui.stderr.on("data", (d) => (err += d));
  const closed = new Promise<number | null>((r) => ui.on("close", r));
  const deadline = Date.now() + 120_000;
  while (!/^http:\/\/127\.0\.0\.1:\d+/m.test(out)) {
    if (Date.now() > deadline) throw new Error(`tlrun ui printed no URL: ${err}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  const uri = out.trim().split("\n").pop()!;
  assert.match(err, /synced 1 of 1 runs/);
  const exp = await (await fetchAgain(`${uri}/api/2.0/mlflow/experiments/get-by-name?experiment_name=tlrun-ui`)).json() as { experiment: { experiment_id: string } };
  const runs = (await (await fetchAgain(`${uri}/api/2.0/mlflow/runs/search`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ experiment_ids: [exp.experiment.experiment_id] }) })).json()) as { runs: Array<{ info: { status: string } }> };
  assert.equal(runs.runs.length, 1);
  assert.equal(runs.runs[0]!.info.status, "FINISHED");
  ui.kill("SIGINT");
  assert.equal(await closed, 0);
  assert.ok(require("node:fs").readdirSync(runsDir, { recursive: true }).some((f: string) => f.endsWith(".db")), "a SQLite file under runs/");
});

test("a deleted experiment is reported with the fix, and the run still finishes", SLOW, async (t) => {
  const { root, file } = setup(t, "tlrun-deleted");
  const post = (path: string, body: unknown) => fetchAgain(`${server!.uri}/api/2.0/mlflow/${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  const created = (await (await post("experiments/create", { name: "tlrun-deleted" })).json()) as { experiment_id: string };
  assert.equal((await post("experiments/delete", { experiment_id: created.experiment_id })).status, 200);
  const r = tlrun([file, "--json"], root);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).status, "completed");
  assert.match(r.stderr, /experiment 'tlrun-deleted' is deleted .*restore it/);
});

test("a batch the server refuses is split: the bad item is reported, the rest is logged", SLOW, async (t) => {
  const { root, file } = setup(t, "tlrun-refused");
  const r = tlrun([file, "--json"], root);
  assert.equal(r.code, 0, r.stderr);
  const runDir = JSON.parse(r.stdout).run_dir as string;
  // MLflow refuses to change a logged param: make `seed` such a change, beside a new param.
  const configFile = join(runDir, "config.resolved.yaml");
  writeFileSync(configFile, readFileSync(configFile, "utf8").replace(/^seed: 7$/m, "seed: 8") + "extra_note: hello\n");
  const state = loadState(runDir);
  const s = Object.values(state.servers)[0]!;
  s.acked.params = s.acked.params.filter((id) => id !== "seed");
  saveState(runDir, state);
  const sync = tlrun(["sync", runDir], root);
  assert.equal(sync.code, 0, sync.stderr);
  assert.match(sync.stderr, /refused: params:seed/);
  const { run } = await api("runs/get", { run_id: serverRunId(runDir) });
  const params = Object.fromEntries(run.data.params.map((p: { key: string; value: string }) => [p.key, p.value]));
  assert.equal(params.seed, "7");
  assert.equal(params.extra_note, "hello");
});

test("a sweep's pruned trial ends KILLED with tlrun.status pruned; the finished one FINISHED", SLOW, async (t) => {
  const { root, file } = setup(t, "tlrun-pruned");
  writeFileSync(file, readFileSync(file, "utf8").replace("  fine_tune: { epochs: 1, batch_size: 8 }", "  fine_tune: null") + PRUNING_SWEEP);
  const r = tlrun(["sweep", file, "--json"], root);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout).trials.map((x: { status: string }) => x.status), ["completed", "pruned"]);
  const seen = (await runsOf("tlrun-pruned")).map((x) => [x.info.run_name, x.info.status, x.data.tags?.find((tag) => tag.key === "tlrun.status")?.value]);
  assert.deepEqual(seen.filter((x) => /trial/.test(String(x[0]))).sort(), [["tiny-trial-1", "FINISHED", "completed"], ["tiny-trial-2", "KILLED", "pruned"]]);
});

test("a sweep adds no MLflow run when every trial is cached; trials starting together make one parent", SLOW, async (t) => {
  const { root, file } = setup(t, "tlrun-sweep-cached");
  const pipeline = readFileSync(file, "utf8").replace("  fine_tune: { epochs: 1, batch_size: 8 }", "  fine_tune: null");
  const sweep = (rates: number[]) => `sweep:\n  method: grid\n  metric: val_accuracy\n  parallel: 2\n  parameters:\n    train.head.learning_rate: { values: [${rates.join(", ")}] }\n`;
  const tag = (r: { data: { tags?: Array<{ key: string; value: string }> } }, k: string) => r.data.tags?.find((x) => x.key === k)?.value;
  const sweepOf = async (rates: number[]) => {
    writeFileSync(file, pipeline + sweep(rates));
    const r = tlrun(["sweep", file, "--json"], root);
    assert.equal(r.code, 0, r.stderr);
    return { out: JSON.parse(r.stdout) as { sweep_id: string }, stderr: r.stderr };
  };
  await sweepOf([0.01]);
  assert.equal((await runsOf("tlrun-sweep-cached")).length, 2, "the first sweep: its parent and one trial");
  // trial 1 is cached (its result is the first sweep's trial); trials 2 and 3 start together and each needs the parent
  const second = await sweepOf([0.01, 0.02, 0.03]);
  const runs = await runsOf("tlrun-sweep-cached");
  const parents = runs.filter((r) => tag(r, "tlrun.sweep_id") === second.out.sweep_id && !tag(r, "mlflow.parentRunId"));
  assert.equal(parents.length, 1, `one parent for the second sweep: ${JSON.stringify(runs.map((r) => [r.info.run_name, tag(r, "mlflow.parentRunId")]))}`);
  const children = runs.filter((r) => tag(r, "mlflow.parentRunId") === parents[0]!.info.run_id);
  assert.deepEqual(children.map((r) => tag(r, "tlrun.trial")).sort(), ["2", "3"], "the cached trial 1 adds no run; 2 and 3 nest under the parent");
  assert.equal(parents[0]!.info.status, "FINISHED");
  const again = await sweepOf([0.01, 0.02, 0.03]);
  assert.equal((await runsOf("tlrun-sweep-cached")).length, runs.length, "the same sweep again, every trial cached: no new run, no parent");
  assert.match(again.stderr, /every trial was taken whole from the cache, so the sweep adds no MLflow run/);
  const sync = tlrun(["sync", "--all", "--runs-dir", join(root, "runs")], root);
  assert.equal(sync.code, 0, sync.stderr);
  assert.equal((await runsOf("tlrun-sweep-cached")).length, runs.length, "a later sync --all does not make that sweep's parent either");
});
