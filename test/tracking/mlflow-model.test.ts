/**
 * The run's model as an MLflow Model, against a real MLflow server and MLflow's own Python
 * client: `tlrun sync` logs it, `mlflow.pyfunc.load_model("runs:/<id>/model")` loads it, and its
 * probabilities on preprocessed images match `tlrun predict`'s on the image files. Slow (starts
 * MLflow, runs Python): skipped when TLRUN_FAST is set.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { stringify } from "yaml";
import { batches } from "../../src/data/loader";
import { expandInputs } from "../../src/deploy/inputs";
import { freePort, startLocalServer, type LocalServer } from "../../src/tracking/local-server";
import { loadState } from "../../src/tracking/state";
import { tempDir, tinyEmojiDataset } from "../helpers";
import { FIXTURE_SIZE, writeFixtureRun } from "../deploy/run-fixture";

const SLOW = { skip: process.env.TLRUN_FAST ? "slow: TLRUN_FAST is set" : false, timeout: 10 * 60_000 };
const ROOT = resolve(__dirname, "../../..");
const BIN = join(ROOT, "bin/tlrun.js");

let server: LocalServer | undefined;
let serverDir = "";
let python = "";

before(async () => {
  if (process.env.TLRUN_FAST) return;
  // setup.mjs also puts the pinned onnx and onnxruntime into the venv, which pyfunc needs
  const mlflowBin = spawnSync(process.execPath, [join(ROOT, "scripts/mlflow/setup.mjs")], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] }).stdout.trim();
  python = join(dirname(mlflowBin), "python");
  serverDir = mkdtempSync(join(tmpdir(), "tlrun-mlflow-model-"));
  server = await startLocalServer(mlflowBin, serverDir, await freePort());
});

after(async () => {
  await server?.stop();
  if (serverDir) rmSync(serverDir, { recursive: true, force: true });
});

function tlrun(cwd: string, ...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: "utf8", env: { ...process.env, MLFLOW_TRACKING_URI: server!.uri } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** MLflow's Python client against the test server: loads the model, predicts, registers it. */
const PY = `
import json, sys, numpy as np, mlflow
mlflow.set_tracking_uri(sys.argv[1])
run_id, x_file, shape = sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
model = mlflow.pyfunc.load_model(f"runs:/{run_id}/model")
x = np.fromfile(x_file, dtype=np.float32).reshape(shape)
out = model.predict(x)
sig = model.metadata.signature.inputs.to_dict()
version = mlflow.register_model(f"runs:/{run_id}/model", "tlrun-fixture")
print(json.dumps({"probs": np.asarray(out["probabilities"]).tolist(), "signature": sig,
  "classes": model.metadata.metadata["classes"], "preprocessing": model.metadata.metadata["preprocessing"]["mode"],
  "flavors": sorted(model.metadata.flavors), "registered": version.version, "model_id": model.metadata.model_id}))
`;

test("a synced run's model loads with mlflow.pyfunc from runs:/<id>/model and predicts what tlrun predict does", SLOW, async (t) => {
  const root = tempDir(t, "tlrun-mlflow-model-");
  const runs = join(root, "runs");
  const classes = ["flags", "food-drink", "smileys-emotion"];
  const run = await writeFixtureRun(runs, "20260101-000000-fixture-bbbb0001", classes);
  // what a real run adds for the tracking layer: a start time and the experiment to log into
  const summary = JSON.parse(readFileSync(join(run.dir, "summary.json"), "utf8"));
  writeFileSync(join(run.dir, "summary.json"), JSON.stringify({ ...summary, name: "fixture", started_at: new Date().toISOString(), ended_at: new Date().toISOString(), stages: [], metrics: {}, warnings: [] }));
  const config = (await import("yaml")).parse(readFileSync(join(run.dir, "config.resolved.yaml"), "utf8"));
  writeFileSync(join(run.dir, "config.resolved.yaml"), stringify({ ...config, tracking: { experiment: "mlflow-model-test", run_name: "", tags: {} } }));

  const sync = tlrun(root, "sync", run.id, "--runs-dir", runs);
  assert.equal(sync.code, 0, sync.stderr);
  assert.match(sync.stderr, /1 models/);
  const state = Object.values(loadState(run.dir).servers)[0]!;
  assert.equal(state.model?.status, "ready");
  const again = tlrun(root, "sync", run.id, "--runs-dir", runs);
  assert.match(again.stderr, /nothing new/); // the model is not logged twice

  // the images as the model's input: the training decoder and the run's preprocessing ("auto" on mobilenet_v2 is "tf")
  const images = tinyEmojiDataset(join(root, "imgs"), 3, ["animals-nature", "travel-places"]);
  const files = [...expandInputs([images])];
  const x = new Float32Array(files.length * FIXTURE_SIZE[0] * FIXTURE_SIZE[1] * 3);
  for await (const b of batches(files.map((abs) => ({ abs })), { size: FIXTURE_SIZE, colorMode: "rgb", maxPixels: 1_000_000, interpolation: "bilinear", preprocessing: "tf", batchSize: 4 }))
    x.set(b.x.subarray(0, b.n * FIXTURE_SIZE[0] * FIXTURE_SIZE[1] * 3), b.indices[0]! * FIXTURE_SIZE[0] * FIXTURE_SIZE[1] * 3);
  const xFile = join(root, "x.f32");
  writeFileSync(xFile, Buffer.from(x.buffer));

  const py = spawnSync(python, ["-c", PY, server!.uri, state.run_id!, xFile, JSON.stringify([files.length, ...FIXTURE_SIZE, 3])], { encoding: "utf8", timeout: 5 * 60_000 });
  assert.equal(py.status, 0, py.stderr);
  const got = JSON.parse(py.stdout.trim().split("\n").pop()!);
  assert.deepEqual(got.flavors, ["onnx", "python_function"]);
  assert.deepEqual(got.classes, classes);
  assert.equal(got.preprocessing, "tf");
  assert.deepEqual(got.signature, [{ type: "tensor", "tensor-spec": { dtype: "float32", shape: [-1, ...FIXTURE_SIZE, 3] }, name: "input" }]);
  assert.equal(got.registered, "1");

  const predict = tlrun(root, "predict", run.dir, "imgs", "--csv");
  assert.equal(predict.code, 0, predict.stderr);
  const rows = new Map(predict.stdout.trim().split("\n").slice(1).map((l) => l.split(",")).map((f) => [join(root, f[0]!), f.slice(1, 1 + classes.length).map(Number)]));
  files.forEach((f, i) => {
    const want = rows.get(f)!;
    classes.forEach((c, j) => assert.ok(Math.abs(got.probs[i][j] - want[j]!) < 1e-4, `${f} ${c}: pyfunc ${got.probs[i][j]} vs tlrun predict ${want[j]}`));
  });

  // the MLflow UI's list of logged models: the search API shows it, made by this run and ready
  const res = await fetchAgain(`${server!.uri}/api/2.0/mlflow/logged-models/search`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ experiment_ids: [state.experiment_id] }) });
  const models = ((await res.json()) as { models?: Array<{ info: Record<string, string> }> }).models ?? [];
  assert.equal(models.length, 1);
  assert.equal(models[0]!.info.name, "model");
  assert.equal(models[0]!.info.source_run_id, state.run_id);
  assert.equal(models[0]!.info.status, "LOGGED_MODEL_READY");
  assert.equal(models[0]!.info.model_id, got.model_id);
  // and the run page's "Logged models": the run names it among its outputs
  const runRes = await fetchAgain(`${server!.uri}/api/2.0/mlflow/runs/get?run_id=${state.run_id}`);
  const outputs = ((await runRes.json()) as { run: { outputs?: { model_outputs?: Array<{ model_id: string }> } } }).run.outputs?.model_outputs ?? [];
  assert.deepEqual(outputs.map((o) => o.model_id), [got.model_id]);
});

/**
 * fetch, tried again when the connection itself fails: on a loaded machine the server's single
 * worker can be restarting after the Python client's long requests (seen once in CI as "fetch
 * failed"). Only connection errors are retried; every answer is checked as it comes.
 */
async function fetchAgain(url: string, init?: RequestInit): Promise<Response> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fetch(url, init);
    } catch (err) {
      if (attempt >= 5) throw err;
      await new Promise((r) => setTimeout(r, 2000));
    }
  }
}
