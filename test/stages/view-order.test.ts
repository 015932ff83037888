/**
 * viewOrder: whatever the chunking, each view gets the same rows in the same order, and a
 * chunk's views follow its plain images closely enough for the pixel cache to serve them. Then
 * what that buys the stages that use it, extract and fine-tune: a dataset larger than the cache
 * is decoded once per stage instead of once per view, into the same bytes.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadConfig } from "../../src/config";
import { clearPixelCache, configurePixelCache, pixelCacheStats } from "../../src/data/decode";
import { execute } from "../../src/executor/execute";
import { viewOrder, viewRuns, type ViewRow } from "../../src/stages/view-order";
import { tempDir, tinyEmojiDataset, tinyPipeline } from "../helpers";

/** Items a..: every third one not in the training split. */
const items = (n: number): Array<{ abs: string; train: boolean }> => Array.from({ length: n }, (_, i) => ({ abs: `img-${i}`, train: i % 3 !== 2 }));

/** Each view's rows as "abs@epoch:index" (or "abs"), in the order they were produced. */
function byView(rows: ViewRow[]): Map<number, string[]> {
  const out = new Map<number, string[]>();
  for (const r of rows) {
    const list = out.get(r.view) ?? out.set(r.view, []).get(r.view)!;
    list.push(r.draw ? `${r.abs}@${r.draw.epoch}:${r.draw.index}` : r.abs);
  }
  return out;
}

test("viewOrder: one chunk is a plain pass over everything, then each view of the training images", () => {
  const rows = viewOrder(items(5), 2, 5);
  const tag = (r: ViewRow): string => `${r.view}:${r.abs}${r.draw ? `@${r.draw.epoch}:${r.draw.index}` : ""}`;
  assert.deepEqual(rows.map(tag), [
    "0:img-0", "0:img-1", "0:img-2", "0:img-3", "0:img-4",
    "1:img-0@1:0", "1:img-1@1:1", "1:img-3@1:2", "1:img-4@1:3",
    "2:img-0@2:0", "2:img-1@2:1", "2:img-3@2:2", "2:img-4@2:3",
  ]);
});

test("viewOrder: every chunk size gives each view the same rows in the same order, and views their global training index", () => {
  const all = items(23);
  const whole = byView(viewOrder(all, 3, all.length));
  for (const chunk of [1, 2, 3, 4, 7, 8, 22, 23, 64]) {
    const rows = viewOrder(all, 3, chunk);
    assert.deepEqual(byView(rows), whole, `chunk ${chunk}`);
    // a chunk's views come right after its plain rows: no image is read again more than one chunk later
    let lastPlain = -1;
    rows.forEach((r, i) => {
      if (r.view === 0) lastPlain = Number(r.abs.slice(4));
      else assert.ok(Number(r.abs.slice(4)) > lastPlain - chunk, `chunk ${chunk}, row ${i}: ${r.abs} long after its plain row`);
    });
  }
  assert.equal(viewOrder(all, 0, 4).length, all.length);
});


test("viewRuns: a batch's rows split where the view changes", () => {
  const rows = viewOrder(items(5), 2, 5); // views 0 x5, 1 x4, 2 x4
  assert.deepEqual(viewRuns(rows, [3, 4, 5, 6]), [[0, 2, 0], [2, 4, 1]]);
  assert.deepEqual(viewRuns(rows, [8, 9, 10, 11, 12]), [[0, 1, 1], [1, 5, 2]]);
  assert.deepEqual(viewRuns(rows, [0, 1]), [[0, 2, 0]]);
  assert.deepEqual(viewRuns(rows, []), []);
});

/** Every file under `dir` whose name passes `keep`, by path relative to `dir`. */
function filesUnder(dir: string, keep: (name: string) => boolean): Record<string, Buffer> {
  const out: Record<string, Buffer> = {};
  for (const rel of (readdirSync(dir, { recursive: true }) as string[]).sort())
    if (keep(rel) && statSync(join(dir, rel)).isFile()) out[rel] = readFileSync(join(dir, rel));
  return out;
}

test("a dataset larger than the pixel cache: extract and fine-tune's views decode each file once per stage, into the same features and weights", async (t) => {
  const root = tempDir(t);
  const data = tinyEmojiDataset(join(root, "data"), 70); // 210 images: 168 to train on, 21 to validate, 21 to test
  const file = join(root, "p.yaml");
  const yaml = tinyPipeline(data, join(root, "runs"), "")
    .replace("split: { train: 0.5, val: 0.25, test: 0.25 }", "split: { train: 0.8, val: 0.1, test: 0.1 }")
    .replace("feature_copies: 1", "feature_copies: 2\n  fine_tune_views: 2");
  const prev = configurePixelCache({ maxBytes: 0 });
  t.after(() => (clearPixelCache(), configurePixelCache(prev)));
  type Run = { features: Record<string, Buffer>; weights: Record<string, Buffer>; decodes: Record<string, number>; train: number; val: number };
  const run = async (runs: string, maxBytes: number): Promise<Run> => {
    writeFileSync(file, yaml.replace(JSON.stringify(join(root, "runs")), JSON.stringify(join(root, runs))));
    clearPixelCache();
    configurePixelCache({ maxBytes });
    const decodes: Record<string, number> = {};
    let last = pixelCacheStats().decodes;
    const onStageEnd = (s: { name: string }): void => {
      decodes[s.name] = pixelCacheStats().decodes - last;
      last = pixelCacheStats().decodes;
    };
    const summary = await execute(loadConfig(file), { renderer: "silent", checkLeaks: true, observers: [{ onStageEnd }] });
    assert.equal(summary.status, "completed");
    const cache = join(root, runs, ".cache");
    return {
      features: filesUnder(join(cache, "extract"), (f) => f.endsWith(".f32")),
      weights: filesUnder(join(cache, "fine-tune"), (f) => f.endsWith(".bin")),
      decodes, train: summary.data!.train as number, val: summary.data!.val as number,
    };
  };
  // 32 px RGB is 3 KB an image: 480 KB holds 160, chunks of 32 beside the loader's look-ahead of
  // 128; neither the 210 images nor the 168 training images fit
  const small = await run("runs-small", 160 * 3072);
  const large = await run("runs-large", 64 * 2 ** 20);
  assert.equal(Object.keys(small.features).length, 3, "plain and two augmented copies");
  assert.equal(Object.keys(small.weights).length, 2, "the top and the head");
  assert.deepEqual(Object.keys(small.features), Object.keys(large.features));
  for (const [name, bytes] of Object.entries({ ...large.features, ...large.weights }))
    assert.ok(bytes.equals(small.features[name] ?? small.weights[name]!), `${name} differs between the chunked and the whole-dataset order`);
  assert.equal(small.train, 168);
  // each view decoding its files again would be 210 + 2 x 168 for extract, and 21 + 3 x 168 for fine-tune
  assert.equal(small.decodes.extract, 210, "extract decodes each file once");
  assert.ok(small.decodes["fine-tune"]! <= small.train + small.val, `fine-tune decoded ${small.decodes["fine-tune"]} files for ${small.train + small.val} images`);
  assert.equal(large.decodes.extract, 210);
  assert.equal(large.decodes["fine-tune"], 0, "a cache that holds the dataset serves fine-tune entirely");
});
