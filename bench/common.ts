/**
 * Shared helpers for the benchmark children: the emoji image list, argument parsing, timing,
 * tensor-leak checks and the one-line JSON result protocol the orchestrator reads.
 */
import * as tf from "@tensorflow/tfjs";
import { readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { selectBackend } from "../src/backend/select";
import type { BackendChoice } from "../src/config/types";
import { batches } from "../src/data/loader";

export const ROOT = resolve(__dirname, "..", "..");
export const EMOJI_DIR = join(ROOT, "data", "emoji-google");
export type Item = { abs: string; label: number };

/** Every image under a class-folder tree, classes sorted, files sorted within each class. */
export function listImages(dir: string): Item[] {
  const classes = readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();
  return classes.flatMap((c, label) =>
    readdirSync(join(dir, c)).filter((f) => /\.(png|jpe?g|webp)$/i.test(f)).sort().map((f) => ({ abs: join(dir, c, f), label })),
  );
}

/** `--key value` pairs into a record; bare `--flag` becomes "true". */
export function parseArgs(argv: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i]!;
    if (!k.startsWith("--")) continue;
    const v = argv[i + 1];
    if (v === undefined || v.startsWith("--")) out[k.slice(2)] = "true";
    else (out[k.slice(2)] = v), i++;
  }
  return out;
}

/** Print the child's result for the orchestrator: one line prefixed with BENCH_RESULT. */
export function emit(result: unknown): void {
  process.stdout.write(`BENCH_RESULT ${JSON.stringify(result)}\n`);
}

export async function useBackend(name: string): Promise<string> {
  const info = await selectBackend(name as BackendChoice);
  return info.tfBackend;
}

/** Decode `n` images (cycling through `items`) into one preprocessed float32 array. */
export async function decodeInputs(items: Item[], n: number, size: number): Promise<Float32Array> {
  const picked = Array.from({ length: n }, (_, i) => items[(i * 7) % items.length]!);
  const per = size * size * 3;
  const out = new Float32Array(n * per);
  let off = 0;
  for await (const b of batches(picked, { size: [size, size], colorMode: "rgb", maxPixels: 1e8, interpolation: "bilinear", preprocessing: "tf", batchSize: 64 })) {
    out.set(b.x, off);
    off += b.x.length;
  }
  return out;
}

/** Median and best of a list of rates. */
export function summarize(rates: number[]): { median: number; best: number; runs: number[] } {
  const s = [...rates].sort((a, b) => a - b);
  return { median: s[Math.floor((s.length - 1) / 2)]!, best: s[s.length - 1]!, runs: rates.map((r) => +r.toFixed(2)) };
}

/** Throw when the tensor count at successive checkpoints is not flat. */
export function assertFlat(label: string, counts: number[]): void {
  if (counts.some((c) => c !== counts[0])) throw new Error(`tensor leak in ${label}: numTensors went ${counts.join(" -> ")}`);
}

export const numTensors = (): number => tf.memory().numTensors;
