import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync, utimesSync, statSync, truncateSync } from "node:fs";
import { flipMiddle } from "./flip";
import { join } from "node:path";
import { StageCache, type EntryMeta } from "../../src/cache/store";
import { CacheDamagedError } from "../../src/cache/damage";
import { FeatureFile } from "../../src/cache/features";
import { digestFile } from "../../src/cache/digest";
import { tempDir } from "../helpers";

/** Every row of a feature file, through FeatureFile as a reader sees it. */
function readFeatures(dir: string, file: string, width: number): Float32Array {
  const f = FeatureFile.open(dir, file, width);
  try {
    return f.read(Array.from({ length: f.rows }, (_, i) => i));
  } finally {
    f.close();
  }
}

const floats = (n: number): Buffer => Buffer.from(new Float32Array(Array.from({ length: n }, (_, i) => Math.sin(i))).buffer);

function entry(cache: StageCache, stage: string, key: string, files: Record<string, Buffer | string>): EntryMeta {
  const tmp = cache.begin(stage, key);
  for (const [name, data] of Object.entries(files)) writeFileSync(join(tmp, name), data);
  return cache.commit(tmp, { stage, key, digest: key, seconds: 1, info: { accuracy: 0.69 } });
}

test("a same-size flip in any file of an entry, meta.json included, is a miss with a warning naming the entry and the file", (t) => {
  const cache = new StageCache(tempDir(t));
  for (const file of ["weights.bin", "model.json", "meta.json"]) {
    entry(cache, "train-head", "k", { "weights.bin": floats(4096), "model.json": JSON.stringify({ layers: ["dense"], pad: "x".repeat(200) }) });
    assert.ok(cache.lookup("train-head", "k").hit);
    flipMiddle(join(cache.entryDir("train-head", "k"), file));
    const r = cache.lookup("train-head", "k");
    assert.equal(r.hit, false, file);
    assert.match((r as { warning: string }).warning, new RegExp(`cache entry train-head/k is damaged \\(.*${file === "meta.json" ? "meta\\.json" : file}.*\\); recomputing`), file);
  }
});

test("a changed value in meta.json that still parses is caught by its own digest", (t) => {
  const cache = new StageCache(tempDir(t));
  entry(cache, "train-head", "k", { "w.bin": floats(8) });
  const path = join(cache.entryDir("train-head", "k"), "meta.json");
  writeFileSync(path, readFileSync(path, "utf8").replace('"accuracy": 0.69', '"accuracy": 0.99'));
  assert.match((cache.lookup("train-head", "k") as { warning: string }).warning, /meta\.json does not match its own digest/);
});

test("an entry recorded before digests is still a hit, checked by size", (t) => {
  const cache = new StageCache(tempDir(t));
  entry(cache, "prepare", "old", { "manifest.json": "{}" });
  const path = join(cache.entryDir("prepare", "old"), "meta.json");
  const { digests: _d, block_bytes: _b, meta_sha256: _m, ...legacy } = JSON.parse(readFileSync(path, "utf8")) as EntryMeta;
  writeFileSync(path, JSON.stringify(legacy));
  assert.ok(cache.lookup("prepare", "old").hit);
  writeFileSync(join(cache.entryDir("prepare", "old"), "manifest.json"), "[]"); // same size, other content: not checkable
  assert.ok(cache.lookup("prepare", "old").hit);
  writeFileSync(join(cache.entryDir("prepare", "old"), "manifest.json"), "[1]");
  assert.equal(cache.lookup("prepare", "old").hit, false, "a size change is still caught");
});

test("a large feature file is left to its reader, which finds the damaged block and names the entry", (t) => {
  const cache = new StageCache(tempDir(t), { smallFileBytes: 1000, blockBytes: 4096 });
  const width = 16;
  const data = floats(width * 200); // 12,800 bytes: 4 blocks of 4096
  entry(cache, "extract", "fk", { "plain.f32": data, "features.json": "{}" });
  const dir = cache.entryDir("extract", "fk");
  const meta = JSON.parse(readFileSync(join(dir, "meta.json"), "utf8")) as EntryMeta;
  assert.equal(meta.digests!["plain.f32"]!.blocks!.length, 4);
  assert.deepEqual(Buffer.from(readFeatures(dir, "plain.f32", width).buffer), data);
  flipMiddle(join(dir, "plain.f32"), 3 * 4096 + 10);
  assert.ok(cache.lookup("extract", "fk").hit, "not hashed at lookup: it is over the small-file size");
  assert.throws(() => readFeatures(dir, "plain.f32", width), (err: unknown) => {
    assert.ok(err instanceof CacheDamagedError);
    assert.equal(err.stage, "extract");
    assert.equal(err.key, "fk");
    assert.match(err.message, /cache entry extract\/fk is damaged \(plain\.f32: block 4 of 4 does not match its digest\)/);
    return true;
  });
  // a file gone (moved aside by another process) is damage too, not a crash
  const aside = cache.moveAside("extract", "fk", meta.createdAt);
  assert.ok(aside);
  assert.throws(() => readFeatures(dir, "plain.f32", width), CacheDamagedError);
});

test("a feature file gives any rows in any order, whole or a slice of each, and a file cut short after it was checked is damage", (t) => {
  const cache = new StageCache(tempDir(t), { smallFileBytes: 1000, blockBytes: 4096 });
  const width = 16;
  const data = new Float32Array(floats(width * 200).buffer.slice(0));
  entry(cache, "extract", "rows", { "plain.f32": Buffer.from(data.buffer) });
  const dir = cache.entryDir("extract", "rows");
  const f = FeatureFile.open(dir, "plain.f32", width);
  t.after(() => f.close());
  assert.equal(f.rows, 200);
  const row = (r: number, from = 0, count = width): number[] => Array.from(data.subarray(r * width + from, r * width + from + count));
  const idx = [7, 8, 9, 199, 0, 7, 3, 4];
  assert.deepEqual(Array.from(f.read(idx)), idx.flatMap((r) => row(r)), "runs of consecutive rows, repeats and any order");
  assert.deepEqual(Array.from(f.read(idx, 8, 8)), idx.flatMap((r) => row(r, 8, 8)), "the second half of each row");
  assert.deepEqual(Array.from(f.read([])), []);
  assert.throws(() => f.read([200]), /row 200 asked of a feature file of 200 rows/);
  truncateSync(join(dir, "plain.f32"), 100 * width * 4);
  assert.deepEqual(Array.from(f.read([99])), row(99));
  assert.throws(() => f.read([98, 99, 100]), (err: unknown) => err instanceof CacheDamagedError && /plain\.f32: shorter than its record/.test(err.message));
});

test("the digests of a file are its sha256 and one per block", (t) => {
  const dir = tempDir(t);
  const p = join(dir, "f");
  writeFileSync(p, Buffer.alloc(10_000, 7));
  const d = digestFile(p, 4096);
  assert.equal(d.blocks!.length, 3);
  assert.equal(d.sha256, require("node:crypto").createHash("sha256").update(Buffer.alloc(10_000, 7)).digest("hex"));
  assert.equal(digestFile(p).blocks, undefined, "one block: the file digest says it all");
});

test("moveAside leaves an entry that another process recomputed meanwhile, and a hit marks the last use", (t) => {
  const cache = new StageCache(tempDir(t));
  const first = entry(cache, "prepare", "k", { "m.json": "{}" });
  const old = new Date(Date.now() - 3600_000);
  utimesSync(join(cache.entryDir("prepare", "k"), "meta.json"), old, old);
  cache.markUsed("prepare", "k");
  assert.ok(Date.now() - statSync(join(cache.entryDir("prepare", "k"), "meta.json")).mtimeMs < 60_000);
  assert.equal(cache.moveAside("prepare", "k", "2000-01-01T00:00:00.000Z"), undefined, "another commit: left alone");
  assert.ok(cache.lookup("prepare", "k").hit);
  assert.match(cache.moveAside("prepare", "k", first.createdAt)!, /k\.damaged-/);
  assert.equal(cache.lookup("prepare", "k").hit, false);
});
