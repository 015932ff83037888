/**
 * What the cache's content checks cost: commit (hashing every file once), reading a large feature
 * file with its per-block check against reading it unchecked, lookup, and a full verify.
 *   node dist/bench/cache-check-bench.js [MB=512] [rounds=3]
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readFeatures } from "../src/cache/features";
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
try {
  const cache = new StageCache(root);
  const tmp = cache.begin("extract", "bench");
  const rows = Math.floor((mb * 1e6) / (width * 4));
  const data = new Float32Array(rows * width).map((_, i) => Math.sin(i));
  writeFileSync(join(tmp, "plain.f32"), new Uint8Array(data.buffer));
  const gb = data.byteLength / 1e9;
  const commit = ms(() => cache.commit(tmp, { stage: "extract", key: "bench", digest: "bench", seconds: 0, info: {} }));
  const dir = cache.entryDir("extract", "bench");
  const checked = best(() => readFeatures(dir, "plain.f32", width));
  process.env.TLRUN_CACHE_PARALLEL_CHECK = "0";
  const inline = best(() => readFeatures(dir, "plain.f32", width));
  delete process.env.TLRUN_CACHE_PARALLEL_CHECK;
  const lookup = best(() => cache.lookup("extract", "bench"));
  const verify = best(() => verifyEntry(listEntries(root)[0]!));
  const meta = JSON.parse(readFileSync(join(dir, "meta.json"), "utf8")) as EntryMeta;
  const { digests: _d, meta_sha256: _m, ...legacy } = meta;
  writeFileSync(join(dir, "meta.json"), JSON.stringify(legacy));
  const unchecked = best(() => readFeatures(dir, "plain.f32", width));
  const plain = best(() => readFileSync(join(dir, "plain.f32")));
  const perGb = (x: number): string => `${(x / gb).toFixed(0)} ms/GB`;
  console.log(`feature file ${(gb * 1000).toFixed(0)} MB, best of ${rounds}, page cache warm`);
  console.log(`  commit (sha256 + 4 MiB block digests):   ${perGb(commit)}`);
  console.log(`  lookup (large .f32 left to its reader):  ${lookup.toFixed(1)} ms`);
  console.log(`  read with per-block check (worker):      ${perGb(checked)}`);
  console.log(`  read with per-block check (in line):     ${perGb(inline)}`);
  console.log(`  read without check (legacy entry):       ${perGb(unchecked)}`);
  console.log(`  readFileSync alone:                      ${perGb(plain)}`);
  const cost = (x: number): string => `+${perGb(x - unchecked)} (${(((x - unchecked) / unchecked) * 100).toFixed(0)}% of the unchecked read)`;
  console.log(`  check cost: worker ${cost(checked)}; in line ${cost(inline)}`);
  console.log(`  tlrun cache verify (full, one pass):     ${perGb(verify)}`);
} finally {
  rmSync(root, { recursive: true, force: true });
}
