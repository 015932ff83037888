/**
 * ONNX Runtime on worker threads (src/models/onnx/workers.ts, compiled.ts' startWorkers): the
 * workers must give the main thread's outputs for full, short, chunked and many concurrent
 * batches, copy the caller's batch before returning, finish every batch on the main thread
 * when a worker dies, and refuse a bad TLRUN_INFERENCE_WORKERS.
 */
import { before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { selectBackend } from "../../src/backend/select";
import { compileForward } from "../../src/models/compiled";
import { chooseEngine } from "../../src/models/engine";
import { traceToOnnx } from "../../src/models/onnx/export";
import { modelProto } from "../../src/models/onnx/proto";
import { poolSettings, startPool } from "../../src/models/onnx/workers";
import { nativeBackend, recordOnSample } from "../../src/models/trace";
import { TlrunError } from "../../src/errors";

before(async () => {
  await selectBackend("native");
});

const SHAPE = [4, 6, 6, 3];
const PER = 6 * 6 * 3;

/** A small conv net with mean pooling, as a function and as an InferenceModel. */
function net(seed: number) {
  const w = tf.randomNormal([3, 3, 3, 5], 0, 1, "float32", seed) as tf.Tensor4D;
  const fn = (x: tf.Tensor): tf.Tensor[] => [tf.mean(tf.relu6(tf.conv2d(x as tf.Tensor4D, w, 1, "same")), [1, 2])];
  return { w, fn, model: { predict: (x: tf.Tensor | tf.Tensor[]) => fn([x].flat()[0]!), folded: { batchNorms: 0, activations: 0, convs: 0 }, dispose: () => w.dispose() } };
}

function input(n: number, seed: number): Float32Array {
  return tf.tidy(() => tf.randomUniform([n, 6, 6, 3], -1, 1, "float32", seed).dataSync() as Float32Array);
}

test("on workers, full, short, chunked and concurrent batches give the main thread's outputs, and the caller may refill its batch at once", async () => {
  const { model } = net(3);
  const fast = await chooseEngine("onnxruntime").forward(model, SHAPE, { workers: { workers: 2, threads: 1 } });
  try {
    assert.match(fast.runner, /^onnxruntime [\d.]+, \d+ ops, 2 workers x 1 thread$/);
    const t0 = tf.memory().numTensors;
    for (const n of [4, 3, 1, 10]) {
      const x = input(n, n);
      const want = fast.predictHost(x, n, [6, 6, 3])[0]!;
      const pending = fast.predictHostAsync(x, n, [6, 6, 3]);
      x.fill(99); // copied before predictHostAsync returned: this must not reach the workers
      const got = (await pending)[0]!;
      assert.equal(got.length, n * 5);
      assert.deepEqual(got, want, `n=${n}`);
    }
    // many at once, more than the workers' slots: answers stay matched to their batches
    const xs = Array.from({ length: 12 }, (_, i) => input(1 + (i % 4), 100 + i));
    const wants = xs.map((x, i) => fast.predictHost(x, 1 + (i % 4), [6, 6, 3])[0]!);
    const gots = await Promise.all(xs.map((x, i) => fast.predictHostAsync(x, 1 + (i % 4), [6, 6, 3])));
    gots.forEach((g, i) => assert.deepEqual(g[0], wants[i], `batch ${i}`));
    assert.equal(tf.memory().numTensors, t0, "tensors leaked");
  } finally {
    fast.dispose();
  }
});

test("a worker that dies mid-run costs speed, not results: its batches and later ones run on the main thread", async () => {
  const { fn } = net(5);
  const backend = nativeBackend();
  assert.notEqual(typeof backend, "string");
  const trace = recordOnSample(backend as Exclude<typeof backend, string>, fn, SHAPE);
  const bytes = modelProto(traceToOnnx(trace), { name: "t", version: "1" });
  // a worker that says it is ready and exits on its first batch
  const dir = mkdtempSync(join(tmpdir(), "tlrun-worker-"));
  const script = join(dir, "dies.js");
  writeFileSync(script, `const { parentPort } = require("node:worker_threads"); parentPort.postMessage({ ready: true }); parentPort.on("message", () => process.exit(3));`);
  const calls: number[] = [];
  const fallback = (x: Float32Array, n: number): Float32Array[] => {
    calls.push(n);
    return [Float32Array.from(x.subarray(0, n * PER)).subarray(0, n)];
  };
  const pool = await startPool(bytes, SHAPE, 1, 1, fallback, script);
  try {
    const x = input(3, 1);
    const results = await Promise.all([pool.run(x, 3), pool.run(x, 2), pool.run(x, 1)]);
    assert.deepEqual(results.map((r) => r[0]!.length), [3, 2, 1]);
    assert.deepEqual(results[0]![0], x.subarray(0, 3), "the batch run on the main thread is the one given");
    assert.deepEqual(calls.sort(), [1, 2, 3]);
    assert.match(pool.broken ?? "", /exited with code 3/);
    const later = await pool.run(x, 2);
    assert.equal(later[0]!.length, 2);
    assert.equal(calls.length, 4);
  } finally {
    pool.dispose();
  }
});

test("with no workers asked for, runHostAsync answers on the main thread with runHost's outputs", async () => {
  const { fn, w } = net(7);
  const r = await compileForward(fn, SHAPE, { perExample: true, workers: { workers: 0, threads: 2 } });
  assert.ok(r.ok);
  assert.deepEqual(r.forward.workers, { ok: false, reason: "TLRUN_INFERENCE_WORKERS=0" });
  const x = input(4, 9);
  assert.deepEqual(await r.forward.runHostAsync(x, 4), r.forward.runHost(x, 4));
  r.forward.dispose();
  w.dispose();
});

test("TLRUN_INFERENCE_WORKERS must be a whole number; it shares the thread budget between sessions, 8 images a thread", () => {
  const saved = { w: process.env.TLRUN_INFERENCE_WORKERS, t: process.env.TF_NUM_INTRAOP_THREADS };
  try {
    process.env.TF_NUM_INTRAOP_THREADS = "4";
    process.env.TLRUN_INFERENCE_WORKERS = "2";
    assert.deepEqual(poolSettings(), { workers: 2, threads: 2, batch: 16 });
    process.env.TLRUN_INFERENCE_WORKERS = "";
    assert.deepEqual(poolSettings(), { workers: 4, threads: 1, batch: 8 }, "by default one single-threaded session per thread");
    process.env.TLRUN_INFERENCE_WORKERS = "1";
    assert.deepEqual(poolSettings(), { workers: 1, threads: 4, batch: 32 });
    process.env.TLRUN_INFERENCE_WORKERS = "0";
    assert.deepEqual(poolSettings(), { workers: 0, threads: 4, batch: 32 });
    process.env.TF_NUM_INTRAOP_THREADS = "16";
    process.env.TLRUN_INFERENCE_WORKERS = "";
    assert.deepEqual(poolSettings(), { workers: 4, threads: 4, batch: 32 }, "at most four sessions by default, each holding the weights");
    for (const bad of ["two", "-1", "1.5"]) {
      process.env.TLRUN_INFERENCE_WORKERS = bad;
      assert.throws(() => poolSettings(), (e: unknown) => e instanceof TlrunError && /TLRUN_INFERENCE_WORKERS=.* is not a whole number/.test(e.message) && /hint:/.test(e.message));
    }
  } finally {
    for (const [k, v] of [["TLRUN_INFERENCE_WORKERS", saved.w], ["TF_NUM_INTRAOP_THREADS", saved.t]] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
});
