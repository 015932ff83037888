/**
 * The graph cache (src/models/onnx/graph-cache.ts, compileForward's cacheKey): a graph exported
 * once is reused by a later compile of the same key and gives the same outputs; a damaged entry
 * or one that no longer matches the function is dropped and exported afresh, never used; and
 * TLRUN_GRAPH_CACHE=0 leaves the folder alone.
 */
import { before, test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { selectBackend } from "../../src/backend/select";
import { compileForward, type CompiledForward } from "../../src/models/compiled";
import { tempDir } from "../helpers";

before(async () => {
  await selectBackend("native");
});

const SHAPE = [4, 6, 6, 3];

/** A small conv net with mean pooling; its weights come from `seed`. */
function net(t: TestContext, seed: number): (x: tf.Tensor) => tf.Tensor[] {
  const w = tf.randomNormal([3, 3, 3, 5], 0, 1, "float32", seed) as tf.Tensor4D;
  t.after(() => w.dispose());
  return (x) => [tf.mean(tf.relu6(tf.conv2d(x as tf.Tensor4D, w, 1, "same")), [1, 2])];
}

/** A cache folder of this test's own, as TLRUN_CACHE, and the folder the graphs go in. */
function cacheFolder(t: TestContext, extra: Record<string, string> = {}): string {
  const saved = { TLRUN_CACHE: process.env.TLRUN_CACHE, TLRUN_GRAPH_CACHE: process.env.TLRUN_GRAPH_CACHE };
  const root = tempDir(t);
  process.env.TLRUN_CACHE = root;
  for (const [k, v] of Object.entries(extra)) process.env[k] = v;
  t.after(() => {
    for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k]; else process.env[k] = v;
  });
  return join(root, "graphs");
}

async function compiled(t: TestContext, fn: (x: tf.Tensor) => tf.Tensor[], key: string): Promise<CompiledForward> {
  const r = await compileForward(fn, SHAPE, { perExample: true, cacheKey: key });
  assert.ok(r.ok, r.ok ? "" : r.reason);
  t.after(() => r.forward.dispose());
  return r.forward;
}

const X = (): Float32Array => tf.tidy(() => tf.randomUniform(SHAPE, -1, 1, "float32", 11).dataSync() as Float32Array);

/** max |a - b| / max |b|. */
function rel(a: Float32Array, b: Float32Array): number {
  let d = 0, m = 1e-6;
  for (let i = 0; i < b.length; i++) (d = Math.max(d, Math.abs(a[i]! - b[i]!))), (m = Math.max(m, Math.abs(b[i]!)));
  return d / m;
}

function eager(fn: (x: tf.Tensor) => tf.Tensor[]): Float32Array {
  return tf.tidy(() => fn(tf.tensor(X(), SHAPE))[0]!.dataSync() as Float32Array);
}

test("a second compile of the same key takes the stored graph and gives the same outputs", async (t) => {
  const graphs = cacheFolder(t);
  const fn = net(t, 1);
  const first = await compiled(t, fn, "net-1");
  assert.doesNotMatch(first.runner, /from cache/);
  assert.equal(readdirSync(graphs).filter((f) => f.endsWith(".onnx")).length, 1);
  const again = await compiled(t, fn, "net-1");
  assert.match(again.runner, /^onnxruntime [\d.]+, \d+ ops, graph from cache$/);
  assert.equal(again.ops, first.ops);
  assert.deepEqual(again.runHost(X(), 4), first.runHost(X(), 4));
  // another key is another graph
  const other = await compiled(t, fn, "net-1 at another cut");
  assert.doesNotMatch(other.runner, /from cache/);
  assert.equal(readdirSync(graphs).filter((f) => f.endsWith(".onnx")).length, 2);
});

test("a damaged entry is a miss: exported afresh, and the outputs are the function's", async (t) => {
  const graphs = cacheFolder(t);
  const fn = net(t, 2);
  await compiled(t, fn, "net-2");
  const onnx = join(graphs, readdirSync(graphs).find((f) => f.endsWith(".onnx"))!);
  const bytes = readFileSync(onnx);
  bytes[bytes.length >> 1] ^= 0xff;
  writeFileSync(onnx, bytes);
  const again = await compiled(t, fn, "net-2");
  assert.doesNotMatch(again.runner, /from cache/);
  assert.ok(rel(again.runHost(X(), 4)[0]!, eager(fn)) < 1e-4);
  // the fresh export replaced the damaged one
  assert.match((await compiled(t, fn, "net-2")).runner, /graph from cache/);
});

test("a stored graph that no longer matches the function is checked, refused and replaced", async (t) => {
  cacheFolder(t);
  await compiled(t, net(t, 3), "same key, other weights");
  const changed = net(t, 4);
  const again = await compiled(t, changed, "same key, other weights");
  assert.doesNotMatch(again.runner, /from cache/);
  assert.ok(rel(again.runHost(X(), 4)[0]!, eager(changed)) < 1e-4);
});

test("TLRUN_GRAPH_CACHE=0 neither reads nor writes the cache", async (t) => {
  const graphs = cacheFolder(t, { TLRUN_GRAPH_CACHE: "0" });
  const fn = net(t, 5);
  await compiled(t, fn, "net-5");
  const again = await compiled(t, fn, "net-5");
  assert.doesNotMatch(again.runner, /from cache/);
  assert.throws(() => readdirSync(graphs), { code: "ENOENT" });
});
