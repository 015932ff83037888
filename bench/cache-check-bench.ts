/**
 * What the cache's content checks cost: commit (hashing every file once), opening a large feature
 * file with its per-block check (one pass through a block-sized buffer) against opening it
 * unchecked, reading it back a batch at a time in random order, lookup, and a full verify.
 *   node dist/bench/cache-check-bench.js [MB=512] [rounds=3]
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FeatureFile } from "../src/cache/features";
import { Rng } from "../src/util/rng";
import { listEntries } from "../src/cache/inventory";
import { StageCache, type EntryMeta } from "../src/cache/store";
import { verifyEntry } from "../src/cache/verify";

const mb = Number(process.argv[2] ?? 512);
const rounds = Number(process.argv[3] ?? 3);
const width = 2560; // MobileNetV2's pooled [avg | max] row
const root = mkdtempSync(join(tmpdir(), "tlrun-cache-bench-"));
const ms = (f: () => unknown): number => {
  const t = performance.now();
  f();
  return performance.now() - t;
};
const best = (f: () => unknown): number => Math.min(...Array.from({ length: rounds }, () => ms(f)));
const open = (dir: string): void => FeatureFile.open(dir, "plain.f32", width).close();
/** Every row once, 32 at a time in a shuffled order, as train-head reads an epoch (the avg half). */
function epoch(dir: string): void {
  const f = FeatureFile.open(dir, "plain.f32", width);
  try {
    const order = new Rng(1).shuffle(Array.from({ length: f.rows }, (_, i) => i));
    for (let s = 0; s < order.length; s += 32) f.read(order.slice(s, s + 32), 0, width / 2);
  } finally {
    f.close();
  }
}
try {
  const cache = new StageCache(root);
  const tmp = cache.begin("extract", "bench");
  const rows = Math.floor((mb * 1e6) / (width * 4));
  const data = new Float32Array(rows * width).map((_, i) => Math.sin(i));
  writeFileSync(join(tmp, "plain.f32"), new Uint8Array(data.buffer));
  const gb = data.byteLength / 1e9;
  const commit = ms(() => cache.commit(tmp, { stage: "extract", key: "bench", digest: "bench", seconds: 0, info: {} }));
  const dir = cache.entryDir("extract", "bench");
  const checked = best(() => open(dir));
  const lookup = best(() => cache.lookup("extract", "bench"));
  const verify = best(() => verifyEntry(listEntries(root)[0]!));
  const meta = JSON.parse(readFileSync(join(dir, "meta.json"), "utf8")) as EntryMeta;
  const { digests: _d, meta_sha256: _m, ...legacy } = meta;
  writeFileSync(join(dir, "meta.json"), JSON.stringify(legacy));
  const unchecked = best(() => open(dir));
  const batches = best(() => epoch(dir));
  const plain = best(() => readFileSync(join(dir, "plain.f32")));
  const perGb = (x: number): string => `${(x / gb).toFixed(0)} ms/GB`;
  console.log(`feature file ${(gb * 1000).toFixed(0)} MB, best of ${rounds}, page cache warm`);
  console.log(`  commit (sha256 + 4 MiB block digests):   ${perGb(commit)}`);
  console.log(`  lookup (large .f32 left to its reader):  ${lookup.toFixed(1)} ms`);
  console.log(`  open with per-block check (one pass):    ${perGb(checked)}`);
  console.log(`  open without check (legacy entry):       ${perGb(unchecked)}`);
  console.log(`  readFileSync alone:                      ${perGb(plain)}`);
  console.log(`  an epoch: batches of 32 shuffled rows, half of each (the avg half):  ${perGb(batches)} of file`);
  console.log(`  tlrun cache verify (full, one pass):     ${perGb(verify)}`);
} finally {
  rmSync(root, { recursive: true, force: true });
}
