/**
 * A tfjs GraphModel base (TF-Hub-style feature vector): it extracts exactly what its graph
 * computes, runs extract -> train-head -> evaluate from a folder or a URL, and a pipeline that
 * asks to fine-tune it is refused at validation with the line of train.fine_tune.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { buildGraphBase } from "../../src/models/graph";
import { loadArtifacts } from "../../src/models/source";
import { tempDir, tinyEmojiDataset, tinyPipeline } from "../helpers";
import { writeGraphModel } from "./graph-fixtures";
import { serveFiles } from "./serve";

const ROOT = resolve(__dirname, "../../..");

function cli(args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [join(ROOT, "bin/tlrun.js"), ...args], { cwd, env: { ...env, CI: "true" }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("close", (status) => done({ status, stdout, stderr }));
  });
}

/** The tiny pipeline on a graph-model base: no fine-tune phase, no freeze point. */
function graphPipeline(data: string, runs: string, model: string): string {
  return tinyPipeline(data, runs)
    .replace("model: mobilenet_v2", `model: ${JSON.stringify(model)}`)
    .replace("freeze:\n  at: block_16_expand\n", "")
    .replace("  fine_tune: { epochs: 1, batch_size: 8 }\n", "");
}

test("a graph model's features are exactly its graph's output, without leaking tensors", async (t) => {
  const dir = join(tempDir(t), "hub");
  const { filter } = writeGraphModel(dir);
  const a = loadArtifacts(dir, "/");
  assert.ok(a.graph);
  assert.match(a.origin, /hub\/model\.json \(graph model\)$/);
  const base = await buildGraphBase(a);
  const x = tf.randomUniform([2, 16, 16, 3], -1, 1, "float32", 3) as tf.Tensor4D;
  const before = tf.memory().numTensors;
  for (let i = 0; i < 2; i++) {
    const [got, want] = tf.tidy(() => [base.predict(x), tf.mean(tf.relu(tf.conv2d(x, tf.tensor4d(filter, [3, 3, 3, 8]), 2, "same")), [1, 2])]);
    assert.deepEqual(got!.shape, [2, 8]);
    assert.ok(tf.tidy(() => tf.max(tf.abs(tf.sub(got!, want!))).dataSync()[0]!) < 1e-6);
    tf.dispose([got!, want!]);
  }
  assert.equal(tf.memory().numTensors, before, "no tensors leak");
  base.dispose();
  x.dispose();
});

test("a graph model from a folder and from a URL: extract, train-head and evaluate run; the model folder holds head and graph", { timeout: 5 * 60_000 }, async (t) => {
  const root = tempDir(t);
  const data = tinyEmojiDataset(join(root, "data"));
  writeGraphModel(join(root, "hub"));
  const hub = (f: string): Uint8Array => readFileSync(join(root, "hub", f));
  const srv = await serveFiles(t, { "/hub/model.json": hub("model.json"), "/hub/group1-shard1of1.bin": hub("group1-shard1of1.bin") });
  for (const model of ["hub", srv.url("/hub/model.json")]) {
    writeFileSync(join(root, "p.yaml"), graphPipeline(data, join(root, "runs"), model));
    const r = await cli([join(root, "p.yaml"), "--json"], root, { ...process.env, TLRUN_CACHE: join(root, "cache") });
    assert.equal(r.status, 0, r.stderr);
    const s = JSON.parse(r.stdout) as { status: string; run_dir: string; stages: Array<{ name: string }>; metrics: Record<string, number> };
    assert.equal(s.status, "completed");
    assert.deepEqual(s.stages.map((x) => x.name), ["dataset", "weights", "prepare", "extract", "audit", "train-head", "evaluate"]);
    assert.ok(Number.isFinite(s.metrics.test_accuracy));
    assert.ok(existsSync(join(s.run_dir, "model", "model.json")), "the head");
    const graph = JSON.parse(readFileSync(join(s.run_dir, "model", "base", "model.json"), "utf8")) as { format: string };
    assert.equal(graph.format, "graph-model");
  }
  assert.ok(srv.requests.some((q) => q.path === "/hub/group1-shard1of1.bin"), "the URL run downloaded the shard");
});

test("fine-tuning, a cut or weights for a graph model are refused at validation, located", async (t) => {
  const root = tempDir(t);
  writeGraphModel(join(root, "hub"));
  const yaml = tinyPipeline(join(root, "data"), join(root, "runs")).replace("model: mobilenet_v2", "model: hub\n  cut: relu");
  writeFileSync(join(root, "p.yaml"), yaml);
  const r = await cli(["validate", join(root, "p.yaml")], root);
  assert.equal(r.status, 2);
  const out = r.stdout + r.stderr;
  const line = yaml.split("\n").findIndex((l) => l.startsWith("  fine_tune:")) + 1;
  assert.match(out, new RegExp(`p\\.yaml:${line}:\\d+: error: train\\.fine_tune is set, but base\\.model 'hub' is a tfjs GraphModel: it has no layers to unfreeze`));
  assert.match(out, /hint: remove train\.fine_tune/);
  assert.match(out, /p\.yaml:\d+:\d+: error: base\.cut 'relu' names a layer, but base\.model 'hub' is a tfjs GraphModel/);
  const plan = await cli(["plan", join(root, "p.yaml")], root);
  assert.equal(plan.status, 2, "plan refuses it too");
  assert.doesNotMatch(plan.stderr, /at .*\.js:\d+/, "no stack trace");
});
