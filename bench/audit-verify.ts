/**
 * Measures the verification step of the near-duplicate finder (docs/audit.md, "Verifying a
 * candidate"): for every cross-split pair of a pipeline's images within `--reach` hash bits, the
 * hash distance, the feature cosine, the 4×4 colour gap and the aligned 16×16 thumbnail error;
 * with `--truth planted.json`, which pairs are planted copies. Prints the errors of the planted
 * pairs against the other candidates, and what each threshold would find.
 *
 *   node dist/bench/audit-verify.js --pipeline P.yaml [--truth DIR/planted.json] [--reach 24] [--mincos C] [--pool 2] [--list planted|other [--below 8]]
 * (--mincos: skip pairs beyond 10 bits whose feature cosine is below C)
 * (run `tlrun audit P.yaml` first: the features are read from its cache.)
 */
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { alignedError } from "../src/audit/aligned-match";
import { hamming } from "../src/audit/phash";
import { colourDistance } from "../src/audit/thumbnails";
import { imageSignatures } from "../src/audit/signatures";
import { unitRows } from "../src/audit/standardise";
import { CROSS_SPLITS } from "../src/audit/hash-pairs";
import { loadPipeline } from "../src/executor/load";
import type { PlantedTruth } from "../src/data/emoji-planted";
import { auditFeatures } from "./audit-export";
import { parseArgs } from "./common";

export interface CandidatePair { a: string; b: string; bits: number; cosine: number; colour: number; aligned: number; planted: boolean; exact: boolean }

/** Every cross-split pair within `reach` bits, measured. */
export async function measureCandidates(pipeline: string, reach: number, truth?: PlantedTruth, minCosine = -1, args: Record<string, string> = {}): Promise<CandidatePair[]> {
  const { features, meta } = auditFeatures(pipeline);
  const dataDir = resolve(dirname(pipeline), loadPipeline(pipeline).config.data.dir);
  const sigs = await imageSignatures(meta.paths.map((p) => join(dataDir, p)));
  const unit = unitRows({ features, width: meta.dim, from: 0, cols: meta.dim });
  const thumbs = sigs.map((s) => Buffer.from(s.thumb!, "base64"));
  const planted = new Set((truth ? [...truth.near, ...truth.exact] : []).map((p) => [p.original, p.copy].sort().join("\n")));
  const out: CandidatePair[] = [];
  for (const [s, t] of CROSS_SPLITS) {
    const p = meta.paths.flatMap((_, i) => (meta.splits[i] === s ? [i] : []));
    const q = meta.paths.flatMap((_, i) => (meta.splits[i] === t ? [i] : []));
    for (const i of p) for (const j of q) {
      const bits = hamming(sigs[i]!.phash, sigs[j]!.phash);
      if (bits > reach) continue;
      let cos = 0;
      for (let c = 0; c < meta.dim; c++) cos += unit[i * meta.dim + c]! * unit[j * meta.dim + c]!;
      if (bits > 10 && cos < minCosine) continue;
      const [a, b] = [meta.paths[i]!, meta.paths[j]!];
      out.push({ a, b, bits, cosine: cos, colour: colourDistance(sigs[i]!.colour!, sigs[j]!.colour!), aligned: alignedError(thumbs[i]!, thumbs[j]!, { pool: Number(args.pool ?? 2) }), planted: planted.has([a, b].sort().join("\n")), exact: sigs[i]!.pixels === sigs[j]!.pixels });
    }
  }
  return out;
}

const q = (xs: number[], f: number): string => (xs.length ? [...xs].sort((x, y) => x - y)[Math.min(xs.length - 1, Math.floor(f * xs.length))]!.toFixed(1) : "-");

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const truth = args.truth ? (JSON.parse(readFileSync(args.truth, "utf8")) as PlantedTruth) : undefined;
  const t0 = performance.now();
  const pairs = await measureCandidates(args.pipeline!, Number(args.reach ?? 24), truth, Number(args.mincos ?? -1), args);
  console.log(`${pairs.length} candidate pairs within ${args.reach ?? 24} bits, measured in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const planted = pairs.filter((p) => p.planted);
  const other = pairs.filter((p) => !p.planted && !p.exact);
  console.log(`planted pairs among them: ${planted.length}; other non-identical pairs: ${other.length}`);
  for (const [name, xs] of [["planted", planted], ["other", other]] as const) {
    const e = xs.map((p) => p.aligned);
    console.log(`aligned error, ${name}: p5 ${q(e, 0.05)}, median ${q(e, 0.5)}, p95 ${q(e, 0.95)}, max ${q(e, 0.9999)}; min ${q(e, 0)}`);
  }
  const rules: Array<[string, (p: CandidatePair) => boolean]> = [
    ["≤10, or ≤18 & cos≥0.9", (p) => p.bits <= 10 || (p.bits <= 18 && p.cosine >= 0.9)],
    ["≤18", (p) => p.bits <= 18],
    ["≤22", (p) => p.bits <= 22],
    ["≤10, or ≤22 & cos≥0.8", (p) => p.bits <= 10 || (p.bits <= 22 && p.cosine >= 0.8)],
    [`≤${args.reach ?? 24}`, () => true],
  ];
  for (const [name, rule] of rules) {
    const row = [4, 6, 8, 10, 12, 15].map((t) => `≤${t}: ${planted.filter((p) => rule(p) && p.aligned <= t).length}/${other.filter((p) => rule(p) && p.aligned <= t).length}`);
    console.log(`${name.padEnd(24)} candidates ${planted.filter(rule).length}/${other.filter(rule).length}; planted/other verified at ${row.join("  ")}`);
  }
  if (args.list) for (const p of pairs.filter((x) => (args.list === "planted" ? x.planted : !x.planted && !x.exact && x.aligned <= Number(args.below ?? 8))).sort((x, y) => x.aligned - y.aligned)) console.log(`${p.aligned.toFixed(1).padStart(5)} ${String(p.bits).padStart(2)} ${p.cosine.toFixed(3)} ${p.colour.toFixed(1).padStart(5)}  ${p.a} ~ ${p.b}`);
}

if (require.main === module) main().catch((err) => { console.error(err); process.exit(1); });
