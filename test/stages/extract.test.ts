/**
 * The extract stage's order (extractionOrder) and what it buys: chunked through the manifest,
 * each feature file still gets its rows in the order of one pass after another, and a dataset
 * larger than the pixel cache is decoded once per file instead of once per view.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadConfig } from "../../src/config";
import { configurePixelCache, clearPixelCache, pixelCacheStats } from "../../src/data/decode";
import { execute } from "../../src/executor/execute";
import { extractionOrder, type ExtractRow } from "../../src/stages/extract";
import { tempDir, tinyEmojiDataset, tinyPipeline } from "../helpers";

/** Items a..: every third one not in the training split. */
const items = (n: number): Array<{ abs: string; train: boolean }> => Array.from({ length: n }, (_, i) => ({ abs: `img-${i}`, train: i % 3 !== 2 }));

/** Each file's rows as "abs@epoch:index" (or "abs"), in the order they were produced. */
function byFile(rows: ExtractRow[]): Map<number, string[]> {
  const out = new Map<number, string[]>();
  for (const r of rows) {
    const list = out.get(r.file) ?? out.set(r.file, []).get(r.file)!;
    list.push(r.view ? `${r.abs}@${r.view.epoch}:${r.view.index}` : r.abs);
  }
  return out;
}

test("extractionOrder: one chunk is a plain pass over everything, then each view of the training images", () => {
  const rows = extractionOrder(items(5), 2, 5);
  const tag = (r: ExtractRow): string => `${r.file}:${r.abs}${r.view ? `@${r.view.epoch}:${r.view.index}` : ""}`;
  assert.deepEqual(rows.map(tag), [
    "0:img-0", "0:img-1", "0:img-2", "0:img-3", "0:img-4",
    "1:img-0@1:0", "1:img-1@1:1", "1:img-3@1:2", "1:img-4@1:3",
    "2:img-0@2:0", "2:img-1@2:1", "2:img-3@2:2", "2:img-4@2:3",
  ]);
});

test("extractionOrder: every chunk size gives each file the same rows in the same order, and views their global training index", () => {
  const all = items(23);
  const whole = byFile(extractionOrder(all, 3, all.length));
  for (const chunk of [1, 2, 3, 4, 7, 8, 22, 23, 64]) {
    const rows = extractionOrder(all, 3, chunk);
    assert.deepEqual(byFile(rows), whole, `chunk ${chunk}`);
    // a chunk's views come right after its plain rows: no file is read back more than one chunk later
    let lastPlain = -1;
    rows.forEach((r, i) => {
      if (r.file === 0) lastPlain = Number(r.abs.slice(4));
      else assert.ok(Number(r.abs.slice(4)) > lastPlain - chunk, `chunk ${chunk}, row ${i}: ${r.abs} long after its plain row`);
    });
  }
  assert.equal(extractionOrder(all, 0, 4).length, all.length);
});

test("a dataset larger than the pixel cache decodes each file once, with the same features as with a cache that holds it all", async (t) => {
  const root = tempDir(t);
  const data = tinyEmojiDataset(join(root, "data"), 70); // 210 images
  const file = join(root, "p.yaml");
  const prev = configurePixelCache({ maxBytes: 0 });
  t.after(() => (clearPixelCache(), configurePixelCache(prev)));
  const features = async (runs: string, maxBytes: number): Promise<{ files: Record<string, Buffer>; decodes: number }> => {
    writeFileSync(file, tinyPipeline(data, join(root, runs), "").replace("feature_copies: 1", "feature_copies: 2"));
    clearPixelCache();
    configurePixelCache({ maxBytes });
    const before = pixelCacheStats().decodes;
    const summary = await execute(loadConfig(file, { overrides: ["train.fine_tune=null"] }), { renderer: "silent", checkLeaks: true });
    assert.equal(summary.status, "completed");
    const decodes = pixelCacheStats().decodes - before;
    const dir = join(root, runs, ".cache", "extract");
    const entry = join(dir, readdirSync(dir)[0]!);
    const files = Object.fromEntries(readdirSync(entry).filter((f) => f.endsWith(".f32")).sort().map((f) => [f, readFileSync(join(entry, f))]));
    return { files, decodes };
  };
  // 32 px RGB is 3 KB an image: 480 KB holds 160, chunks of 32 beside the loader's look-ahead of 128; 210 do not fit
  const small = await features("runs-small", 160 * 3072);
  const large = await features("runs-large", 64 * 2 ** 20);
  assert.deepEqual(Object.keys(small.files), ["aug-1.f32", "aug-2.f32", "plain.f32"]);
  for (const [name, bytes] of Object.entries(large.files)) assert.ok(bytes.equals(small.files[name]!), `${name} differs between the chunked and the whole-dataset order`);
  assert.equal(small.decodes, 210, "each file decoded once though the cache holds under half the dataset");
  assert.equal(large.decodes, 210);
});
