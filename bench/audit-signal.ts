/**
 * Which signal finds a re-encoded, resized or cropped copy? (issue #22 §3: measure before
 * choosing.) Takes `--n` originals from a class-folder dataset, writes four copies of each
 * (JPEG q 60–90; resized 0.5–1.5×; cropped 2–8%; all three), and measures for each signal the
 * score of copy↔original against the score of each original↔its nearest DIFFERENT image of the
 * dataset (a sample of `--pool` images). Signals: the perceptual hash (Hamming, lower = closer)
 * and the cosine of MobileNetV2's pooled features (avg half, and the whole avg|max row), as the
 * extract stage computes them. Also times imageSignatures over the whole dataset.
 *
 *   node dist/bench/audit-signal.js --dir data/emoji-google --n 200 --pool 2000 [--out result.json]
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import { hamming } from "../src/audit/phash";
import { colourDistance } from "../src/audit/thumbnails";
import { imageSignatures } from "../src/audit/signatures";
import { Rng } from "../src/util/rng";
import { cachedFeatures } from "./audit-features";
import { listImages, parseArgs, ROOT, useBackend } from "./common";

const KINDS = ["jpeg", "resize", "crop", "all"] as const;
type Kind = (typeof KINDS)[number];

async function makeCopy(src: string, out: string, kind: Kind, rand: () => number): Promise<void> {
  const meta = await sharp(src).metadata();
  const [w, h] = [meta.width!, meta.height!];
  let img = sharp(src).rotate();
  if (kind === "crop" || kind === "all") {
    const f = 0.02 + 0.06 * rand(); // share of each side cut away, split between the two edges
    const left = Math.round(w * f * rand());
    const top = Math.round(h * f * rand());
    img = sharp(await img.extract({ left, top, width: w - Math.round(w * f), height: h - Math.round(h * f) }).png().toBuffer());
  }
  if (kind === "resize" || kind === "all") {
    const s = 0.5 + rand();
    img = img.resize(Math.max(8, Math.round(w * s)), Math.max(8, Math.round(h * s)));
  }
  if (kind === "jpeg" || kind === "all") await img.flatten({ background: "#ffffff" }).jpeg({ quality: 60 + Math.floor(31 * rand()) }).toFile(out);
  else await img.png().toFile(out);
}

/** L2-normalised rows of `cols` values starting at `from`, of rows `width` wide. */
function normRows(f: Float32Array, width: number, from: number, cols: number): Float32Array[] {
  const rows: Float32Array[] = [];
  for (let r = 0; r < f.length / width; r++) {
    const v = f.slice(r * width + from, r * width + from + cols);
    const n = Math.hypot(...v) || 1;
    for (let i = 0; i < cols; i++) v[i]! /= n;
    rows.push(v);
  }
  return rows;
}
function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

function quantiles(xs: number[]): Record<string, number> {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number): number => +s[Math.min(s.length - 1, Math.floor(p * s.length))]!.toFixed(4);
  return { min: q(0), p01: q(0.01), p05: q(0.05), p25: q(0.25), p50: q(0.5), p75: q(0.75), p95: q(0.95), p99: q(0.99), max: q(1 - 1e-9) };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const dir = args.dir ?? join(ROOT, "data", "emoji-google");
  const n = Number(args.n ?? 200);
  const rng = new Rng(Number(args.seed ?? 1));
  const rand = (): number => rng.next();
  const all = listImages(dir);
  const order = rng.shuffle(all.map((_, i) => i));
  const pool = order.slice(0, Math.min(all.length, Number(args.pool ?? 2000))).map((i) => all[i]!);
  const originals = pool.slice(0, n);
  const scratch = mkdtempSync(join(tmpdir(), "audit-engine-signal-"));
  try {
    const copies: Array<{ abs: string; of: number; kind: Kind }> = [];
    for (const [i, o] of originals.entries()) {
      for (const kind of KINDS) {
        const abs = join(scratch, `${i}-${kind}.${kind === "jpeg" || kind === "all" ? "jpg" : "png"}`);
        await makeCopy(o.abs, abs, kind, rand);
        copies.push({ abs, of: i, kind });
      }
    }
    // signature speed over the whole dataset, then the copies
    let t = performance.now();
    const sigAll = await imageSignatures(all.map((it) => it.abs));
    const sigSeconds = (performance.now() - t) / 1000;
    const index = new Map(all.map((it, i) => [it.abs, i]));
    const sigPool = pool.map((it) => sigAll[index.get(it.abs)!]!);
    const sigCopies = await imageSignatures(copies.map((c) => c.abs));
    const result: Record<string, unknown> = {
      dir, images: all.length, originals: n, pool: pool.length,
      signatures: { seconds: +sigSeconds.toFixed(1), images_per_second: +(all.length / sigSeconds).toFixed(0) },
    };
    // pHash: copy↔original, original↔nearest different (pixel-distinct) pool image, and all distinct pool pairs
    const hashCopy: Record<string, number[]> = Object.fromEntries(KINDS.map((k) => [k, []]));
    for (const [j, c] of copies.entries()) hashCopy[c.kind]!.push(hamming(sigCopies[j]!.phash, sigPool[c.of]!.phash));
    const hashNearest = originals.map((_, i) => Math.min(...sigPool.map((s, k) => (k === i || s.pixels === sigPool[i]!.pixels ? 64 : hamming(s.phash, sigPool[i]!.phash)))));
    const pairHist = new Array(65).fill(0);
    for (let a = 0; a < pool.length; a++) for (let b = a + 1; b < pool.length; b++) if (sigPool[a]!.pixels !== sigPool[b]!.pixels) pairHist[hamming(sigPool[a]!.phash, sigPool[b]!.phash)]++;
    const pairs = pairHist.reduce((s, x) => s + x, 0);
    result.colour_copy_to_original = Object.fromEntries(KINDS.map((k) => [k, quantiles(copies.flatMap((cp, j) => (cp.kind === k ? [colourDistance(sigCopies[j]!.colour!, sigPool[cp.of]!.colour!)] : [])))]));
    result.phash = {
      copy_to_original: Object.fromEntries(KINDS.map((k) => [k, quantiles(hashCopy[k]!)])),
      original_to_nearest_other: quantiles(hashNearest),
      thresholds: Object.fromEntries([4, 6, 8, 10, 12, 14, 16].map((th) => [th, {
        copies_found: Object.fromEntries(KINDS.map((k) => [k, +(hashCopy[k]!.filter((d) => d <= th).length / n).toFixed(3)])),
        originals_with_other_within: +(hashNearest.filter((d) => d <= th).length / n).toFixed(3),
        distinct_pairs_within: pairHist.slice(0, th + 1).reduce((s: number, x: number) => s + x, 0),
        distinct_pairs: pairs,
      }])),
    };
    if (args.features !== "false") {
      t = performance.now();
      const fPool = await cachedFeatures(pool, args.features);
      const fCopies = await cachedFeatures(copies.map((c) => ({ abs: c.abs, label: 0 })), args.features ? `${args.features}.copies` : undefined);
      const width = fPool.length / pool.length;
      const dim = width / 2;
      const out: Record<string, unknown> = { seconds: +((performance.now() - t) / 1000).toFixed(1) };
      for (const [name, from, cols] of [["avg", 0, dim], ["avg_max", 0, width]] as const) {
        const p = normRows(fPool, width, from, cols);
        const c = normRows(fCopies, width, from, cols);
        const copyCos: Record<string, number[]> = Object.fromEntries(KINDS.map((k) => [k, []]));
        for (const [j, cp] of copies.entries()) copyCos[cp.kind]!.push(dot(c[j]!, p[cp.of]!));
        const nearest = originals.map((_, i) => Math.max(...p.map((v, k) => (k === i || sigPool[k]!.pixels === sigPool[i]!.pixels ? -1 : dot(v, p[i]!)))));
        // copies ranked below the original's nearest different image: the failure the issue warns of
        const below = copies.filter((cp, j) => dot(c[j]!, p[cp.of]!) < nearest[cp.of]!).length;
        // hash and features together: a pair within `strong` bits, or within `weak` bits with a cosine of at least `cos`
        const combined: Record<string, unknown> = {};
        const colourAt = (sig: { colour?: string }[], i: number, sig2: { colour?: string }[], j: number): number => colourDistance(sig[i]!.colour!, sig2[j]!.colour!);
        for (const [strong, weak, cos, colour] of [[10, 16, 0.9, 255], [10, 18, 0.9, 255], [10, 20, 0.9, 255], [10, 22, 0.9, 255], [10, 20, 0.85, 255], [10, 64, 0.99, 255], [10, 18, 0.9, 6], [10, 18, 0.9, 8], [10, 18, 0.9, 10], [10, 18, 0.9, 12], [10, 18, 0.9, 16], [12, 20, 0.85, 8], [12, 20, 0.85, 12]] as const) {
          const hit = (h: number, c: number, col: number): boolean => col <= colour && (h <= strong || (h <= weak && c >= cos));
          const found = Object.fromEntries(KINDS.map((k) => [k, 0]));
          for (const [j, cp] of copies.entries()) if (hit(hamming(sigCopies[j]!.phash, sigPool[cp.of]!.phash), dot(c[j]!, p[cp.of]!), colourAt(sigCopies, j, sigPool, cp.of))) found[cp.kind]! += 1 / n;
          let falsePairs = 0;
          const withOther = new Set<number>();
          for (let a = 0; a < pool.length; a++) {
            for (let b = a + 1; b < pool.length; b++) {
              if (sigPool[a]!.pixels === sigPool[b]!.pixels) continue;
              const h = hamming(sigPool[a]!.phash, sigPool[b]!.phash);
              if (h > weak && h > strong) continue;
              if (hit(h, dot(p[a]!, p[b]!), colourAt(sigPool, a, sigPool, b))) (falsePairs++, a < n && withOther.add(a), b < n && withOther.add(b));
            }
          }
          combined[`colour<=${colour} and (h<=${strong} or (h<=${weak} and cos>=${cos}))`] = { copies_found: Object.fromEntries(Object.entries(found).map(([k, v]) => [k, +v.toFixed(3)])), distinct_pairs_within: falsePairs, originals_with_other_within: +(withOther.size / n).toFixed(3) };
        }
        out[name] = {
          combined,
          copy_to_original: Object.fromEntries(KINDS.map((k) => [k, quantiles(copyCos[k]!)])),
          original_to_nearest_other: quantiles(nearest),
          copies_below_nearest_other: below,
          thresholds: Object.fromEntries([0.8, 0.85, 0.9, 0.92, 0.94, 0.96, 0.98].map((th) => [th, {
            copies_found: Object.fromEntries(KINDS.map((k) => [k, +(copyCos[k]!.filter((d) => d >= th).length / n).toFixed(3)])),
            originals_with_other_within: +(nearest.filter((d) => d >= th).length / n).toFixed(3),
          }])),
        };
      }
      result.features = out;
    }
    const text = JSON.stringify(result, null, 1);
    if (args.out) writeFileSync(args.out, text);
    process.stdout.write(text + "\n");
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

if (require.main === module) {
  mkdirSync(tmpdir(), { recursive: true });
  useBackend(process.env.TLRUN_BACKEND ?? "auto").then(main).catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
