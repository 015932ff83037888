/**
 * How the audit's finders scale (issue #22 §3: 100k images on 2 cores in minutes): synthetic
 * items split 70/15/15 with random hashes and random non-negative features of the extract stage's
 * width (MobileNetV2: 1280 avg + 1280 max), timed finder by finder through auditFindings, and the
 * pair searches alone at a larger size.
 *
 *   node dist/bench/audit-scale.js --n 10000 [--pairs 30000] [--dim 2560]
 */
import { auditFindings } from "../src/audit/index";
import { featurePairs } from "../src/audit/feature-pairs";
import { hashPairs } from "../src/audit/hash-pairs";
import type { Split } from "../src/data/scan";
import { Rng } from "../src/util/rng";
import { parseArgs, useBackend } from "./common";

function synthetic(n: number, dim: number, seed: number) {
  const rng = new Rng(seed);
  const classes = 9;
  const centres = Array.from({ length: classes }, () => Float32Array.from({ length: dim }, () => rng.next()));
  const items = Array.from({ length: n }, (_, i) => {
    const r = rng.next();
    return { rel: `img${i}.png`, split: (r < 0.7 ? "train" : r < 0.85 ? "val" : "test") as Split, label: i % classes };
  });
  const features = new Float32Array(n * dim);
  for (let i = 0; i < n; i++) for (let j = 0; j < dim; j++) features[i * dim + j] = Math.max(0, centres[i % classes]![j]! + 0.5 * (rng.next() - 0.5));
  const signatures = items.map((_, i) => ({ pixels: `p${i}`, phash: [(rng.next() * 2 ** 32) >>> 0, (rng.next() * 2 ** 32) >>> 0] as [number, number] }));
  return { items, classes: Array.from({ length: classes }, (_, c) => `c${c}`), features, dim, signatures, seed };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const dim = Number(args.dim ?? 2560);
  const result: Record<string, unknown> = { dim };
  const n = Number(args.n ?? 10000);
  const input = synthetic(n, dim, 1);
  const t0 = performance.now();
  const f = auditFindings(input);
  result[`all_finders_${n}`] = { seconds: +((performance.now() - t0) / 1000).toFixed(1), by_finder: Object.fromEntries(Object.entries(f.seconds).map(([k, v]) => [k, +v.toFixed(1)])) };
  process.stderr.write(`${JSON.stringify(result)}\n`);
  const m = Number(args.pairs ?? 0);
  if (m > 0) {
    const big = synthetic(m, dim, 2);
    let t = performance.now();
    hashPairs(big.items, big.signatures, 10);
    const hash = (performance.now() - t) / 1000;
    t = performance.now();
    featurePairs(big.items, { features: big.features, width: dim, from: 0, cols: dim }, 0.99);
    const feat = (performance.now() - t) / 1000;
    const scale = (100_000 / m) ** 2; // both searches compare every cross-split pair
    result[`pairs_${m}`] = { phash_seconds: +hash.toFixed(1), feature_seconds: +feat.toFixed(1), extrapolated_100k: { phash_seconds: +(hash * scale).toFixed(0), feature_seconds: +(feat * scale).toFixed(0) } };
  }
  process.stdout.write(JSON.stringify(result, null, 1) + "\n");
}

if (require.main === module) {
  useBackend(process.env.TLRUN_BACKEND ?? "auto").then(main).catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
