/**
 * Where an image's audit signature spends its time: the sharp decode, the sha256 of the decoded
 * pixels, and the reductions (perceptual hash, 4×4 colour grid, 16×16 thumbnail), the reductions
 * both as the audit computes them now and as they were before the one-pass rewrite
 * (`test/audit/reference-signatures.ts`), side by side on the same decoded pixels, so the ratio
 * holds on a loaded machine. Each phase is timed per image, one image at a time, in wall time and
 * in process CPU time (`process.cpuUsage`, which counts libvips' threads too and does not count
 * time spent waiting for a core). Then the whole `imageSignatures` at its default concurrency.
 * Also counts where the two reductions disagree (phash bits, thumbnail levels).
 *
 *   node dist/bench/signature-bench.js --dir bench/.data/folder-v1-10000-seed1 [--n 500]
 */
import { cpus, loadavg } from "node:os";
import { hamming } from "../src/audit/phash";
import { perceptualSignature } from "../src/audit/pixel-signature";
import { decodeRgba, imageSignatures, pixelsHash } from "../src/audit/signatures";
import { THUMB_SIDE } from "../src/audit/aligned-match";
import { referenceColour, referencePhash, referenceThumb } from "../test/audit/reference-signatures";
import { emit, listImages, parseArgs } from "./common";

type Phase = "decode" | "sha256" | "reduce_before" | "reduce_now";
const PHASES: Phase[] = ["decode", "sha256", "reduce_before", "reduce_now"];

interface Clock { wall: number; cpu: number }

/** Run `fn`, adding its wall and CPU milliseconds to `into`. */
async function timed<T>(into: Clock, fn: () => T | Promise<T>): Promise<T> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const out = await fn();
  const c = process.cpuUsage(c0);
  into.wall += performance.now() - t0;
  into.cpu += (c.user + c.system) / 1000;
  return out;
}

/** How many bytes of two equal-length byte strings differ, and by at most how much. */
function byteDiff(a: Buffer, b: Buffer): { bytes: number; max: number } {
  let bytes = 0;
  let max = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    if (d > 0) bytes++, (max = Math.max(max, d));
  }
  return { bytes, max };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (!args.dir) throw new Error("usage: node dist/bench/signature-bench.js --dir <class-folder tree> [--n 500]");
  const all = listImages(args.dir);
  const n = Math.min(all.length, Number(args.n ?? 500));
  const picked = Array.from({ length: n }, (_, i) => all[Math.floor((i * all.length) / n)]!.abs);
  const clocks = Object.fromEntries(PHASES.map((p) => [p, { wall: 0, cpu: 0 }])) as Record<Phase, Clock>;
  const warm = { wall: 0, cpu: 0 };
  let pixels = 0;
  const diff = { phashImages: 0, phashBits: 0, colourImages: 0, colourBytes: 0, thumbImages: 0, thumbBytes: 0, maxLevel: 0 };
  for (const path of picked.slice(0, 10)) {
    const { rgba, width, height } = await decodeRgba(path);
    await timed(warm, () => [referencePhash(rgba, width, height), perceptualSignature(rgba, width, height)]);
  }
  for (const path of picked) {
    const { rgba, width, height } = await timed(clocks.decode, () => decodeRgba(path));
    pixels += width * height;
    await timed(clocks.sha256, () => pixelsHash(rgba, width, height));
    const before = await timed(clocks.reduce_before, () => ({
      phash: referencePhash(rgba, width, height).bits, colour: referenceColour(rgba, width, height), thumb: referenceThumb(rgba, width, height, THUMB_SIDE),
    }));
    const now = await timed(clocks.reduce_now, () => perceptualSignature(rgba, width, height));
    const bits = hamming(before.phash, now.phash);
    diff.phashImages += bits > 0 ? 1 : 0;
    diff.phashBits += bits;
    const colour = byteDiff(Buffer.from(before.colour, "hex"), Buffer.from(now.colour!, "hex"));
    const thumb = byteDiff(Buffer.from(before.thumb, "base64"), Buffer.from(now.thumb!, "base64"));
    diff.colourImages += colour.bytes > 0 ? 1 : 0;
    diff.colourBytes += colour.bytes;
    diff.thumbImages += thumb.bytes > 0 ? 1 : 0;
    diff.thumbBytes += thumb.bytes;
    diff.maxLevel = Math.max(diff.maxLevel, colour.max, thumb.max);
  }
  const whole = { wall: 0, cpu: 0 };
  await timed(whole, () => imageSignatures(picked));
  const perImage = (c: Clock): { wall_ms: number; cpu_ms: number } => ({ wall_ms: +(c.wall / n).toFixed(3), cpu_ms: +(c.cpu / n).toFixed(3) });
  const split = Object.fromEntries(PHASES.map((p) => [p, perImage(clocks[p])]));
  console.log(`${n} images from ${args.dir}, ${(pixels / n / 1000).toFixed(0)}k pixels an image on average, ${cpus().length} cores, load ${loadavg()[0]!.toFixed(2)}`);
  console.log("per image, one at a time        wall ms    cpu ms");
  for (const p of PHASES) console.log(`  ${p.padEnd(28)} ${split[p]!.wall_ms.toFixed(2).padStart(8)} ${split[p]!.cpu_ms.toFixed(2).padStart(9)}`);
  console.log(`  reductions before / now: ${(clocks.reduce_before.cpu / clocks.reduce_now.cpu).toFixed(2)}x CPU, ${(clocks.reduce_before.wall / clocks.reduce_now.wall).toFixed(2)}x wall`);
  console.log(`imageSignatures (default concurrency), per image: ${perImage(whole).wall_ms.toFixed(2)} ms wall, ${perImage(whole).cpu_ms.toFixed(2)} ms CPU`);
  console.log(`before vs now: phash differs on ${diff.phashImages} images (${diff.phashBits} bits), colour on ${diff.colourImages} (${diff.colourBytes} bytes of 48 each), thumb on ${diff.thumbImages} (${diff.thumbBytes} bytes of 768 each), by at most ${diff.maxLevel} level(s)`);
  emit({ images: n, pixels_per_image: Math.round(pixels / n), per_image: split, signatures_per_image: perImage(whole), differences: diff });
}

if (require.main === module) main().catch((err) => { console.error(err); process.exit(1); });
