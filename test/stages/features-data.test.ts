import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { StageCache } from "../../src/cache/store";
import { CacheDamagedError } from "../../src/cache/damage";
import type { Manifest, ManifestItem } from "../../src/data/manifest";
import { FeatureStore, featureBatches, predictProbs } from "../../src/stages/features-data";
import { FEATURE_INDEX, type FeatureIndex } from "../../src/stages/extract";
import { flipMiddle } from "../cache/flip";
import { tempDir } from "../helpers";

const SPLITS: ManifestItem["split"][] = ["train", "val", "train", "test", "train", "val", "train"];
const manifest: Manifest = {
  version: 1, classes: ["a", "b"], bad: [], skipped: [], counts: { train: {}, val: {}, test: {} },
  items: SPLITS.map((split, i) => ({ rel: `${i}.png`, label: i % 2, split, sha256: "", width: 1, height: 1 })),
};
/** Value `j` of row `r` of view `v`: every value says where it came from. */
const value = (v: number, r: number, j: number): number => v * 1000 + r * 10 + j;

/** An extract entry of `width`-value rows: plain.f32 with every item, aug-1.f32 with the train rows. */
function extractEntry(t: import("node:test").TestContext, index: Omit<FeatureIndex, "rows" | "trainRows" | "copies">, width: number): string {
  const cache = new StageCache(tempDir(t), { smallFileBytes: 0, blockBytes: 64 });
  const tmp = cache.begin("extract", "k");
  const rows = (v: number, n: number): Buffer => Buffer.from(Float32Array.from({ length: n * width }, (_, i) => value(v, Math.floor(i / width), i % width)).buffer);
  const train = SPLITS.filter((s) => s === "train").length;
  writeFileSync(join(tmp, "plain.f32"), rows(0, SPLITS.length));
  writeFileSync(join(tmp, "aug-1.f32"), rows(1, train));
  writeFileSync(join(tmp, FEATURE_INDEX), JSON.stringify({ ...index, rows: SPLITS.length, trainRows: train, copies: 1 }));
  cache.commit(tmp, { stage: "extract", key: "k", digest: "k", seconds: 0, info: {} });
  return cache.entryDir("extract", "k");
}

test("a split and each training view read the rows and the pooled half the head takes, a batch at a time", (t) => {
  const dir = extractEntry(t, { dim: 2 }, 4);
  for (const [pooling, from] of [["avg", 0], ["max", 2]] as const) {
    const store = new FeatureStore(dir, manifest, pooling, true);
    try {
      const val = store.split("val");
      assert.deepEqual([val.labels, val.dim, val.shape], [[1, 1], 2, [2]]);
      assert.deepEqual(Array.from(val.read([1, 0, 1])), [5, 1, 5].flatMap((r) => [value(0, r, from), value(0, r, from + 1)]));
      const plain = store.trainView(2);
      assert.deepEqual(Array.from(plain.read([3])), [value(0, 6, from), value(0, 6, from + 1)], "epoch 2 is the plain view: train row 3 is item 6");
      const aug = store.trainView(1);
      assert.deepEqual(aug.labels, [0, 0, 0, 0]);
      assert.deepEqual(Array.from(aug.read([3, 0])), [value(1, 3, from), value(1, 3, from + 1), value(1, 0, from), value(1, 0, from + 1)]);
    } finally {
      store.close();
    }
  }
});

test("a spatial head's rows are whole maps; batches and predictions come out in the order asked, with no tensor left", (t) => {
  const dir = extractEntry(t, { dim: 2, spatial: [1, 2] }, 4);
  const store = new FeatureStore(dir, manifest, "avg", true);
  t.after(() => store.close());
  const train = store.trainView(0);
  assert.deepEqual([train.dim, train.shape], [4, [1, 2, 2]]);
  const before = tf.memory().numTensors;
  return (async () => {
    const seen: number[][] = [];
    for await (const b of featureBatches(train, [3, 3, 0], 2, 2, false, [1, 2])) {
      assert.deepEqual((b.x as tf.Tensor).shape, [b.n, 1, 2, 2]);
      seen.push(Array.from((b.x as tf.Tensor).dataSync()).filter((_, i) => i % 4 === 0));
      assert.deepEqual(Array.from(b.w!.dataSync()), b.n === 2 ? [1, 1] : [1]);
      tf.dispose([b.x as tf.Tensor, b.y, b.w!]);
    }
    assert.deepEqual(seen, [[value(0, 6, 0), value(0, 6, 0)], [value(0, 0, 0)]]);
    const probs = predictProbs((x) => tf.softmax(tf.reshape(x, [x.shape[0]!, 4]).slice([0, 0], [-1, 2])), store.split("val"), 2);
    assert.equal(probs.length, 4);
    assert.equal(tf.memory().numTensors, before);
  })();
});

test("a damaged augmented copy stops train-head's store before any training; evaluate's store does not open it", (t) => {
  const dir = extractEntry(t, { dim: 2 }, 4);
  flipMiddle(join(dir, "aug-1.f32"));
  assert.throws(() => new FeatureStore(dir, manifest, "avg", true), (err: unknown) => err instanceof CacheDamagedError && /aug-1\.f32: block \d of \d does not match its digest/.test(err.message));
  const plainOnly = new FeatureStore(dir, manifest, "avg");
  assert.throws(() => plainOnly.trainView(1), /opened without its augmented copies/, "never the plain view in the copy's place");
  plainOnly.close();
  flipMiddle(join(dir, "plain.f32"));
  assert.throws(() => new FeatureStore(dir, manifest, "avg"), CacheDamagedError);
});
