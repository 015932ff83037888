import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { StageCache } from "../../src/cache/store";
import { tempDir } from "../helpers";

test("an entry is invisible until committed, then found with its info", (t) => {
  const cache = new StageCache(tempDir(t));
  const tmp = cache.begin("extract", "k1");
  writeFileSync(join(tmp, "plain.f32"), Buffer.alloc(64));
  assert.equal(cache.lookup("extract", "k1").hit, false);
  cache.commit(tmp, { stage: "extract", key: "k1", digest: "d1", seconds: 1, info: { rows: 2 } });
  const found = cache.lookup("extract", "k1");
  assert.ok(found.hit);
  assert.equal(found.meta.digest, "d1");
  assert.deepEqual(found.meta.info, { rows: 2 });
  assert.equal(existsSync(tmp), false);
});

test("a truncated or damaged entry is a miss with a warning, never a throw", (t) => {
  const cache = new StageCache(tempDir(t));
  const tmp = cache.begin("extract", "k2");
  writeFileSync(join(tmp, "plain.f32"), Buffer.alloc(64));
  cache.commit(tmp, { stage: "extract", key: "k2", digest: "k2", seconds: 1, info: {} });
  truncateSync(join(cache.entryDir("extract", "k2"), "plain.f32"), 10);
  const r = cache.lookup("extract", "k2");
  assert.equal(r.hit, false);
  assert.match((r as { warning: string }).warning, /damaged .*plain\.f32 is 10 bytes, expected 64/);
  writeFileSync(join(cache.entryDir("extract", "k2"), "meta.json"), "{not json");
  assert.equal(cache.lookup("extract", "k2").hit, false);
});

test("temporaries of dead processes are swept, live ones kept", (t) => {
  const root = tempDir(t);
  const cache = new StageCache(root);
  const mine = cache.begin("prepare", "k");
  const dead = join(root, "prepare", "k.tmp-999999-1-0");
  writeFileSync(join(mine, "x"), "1");
  require("node:fs").mkdirSync(dead);
  assert.equal(cache.sweepTemporaries(), 1);
  assert.deepEqual(readdirSync(join(root, "prepare")), [mine.split("/").pop()]);
});
