/**
 * A long-lived benchmark worker for one tfjs backend. The orchestrator sends one JSON command
 * per stdin line and reads one BENCH_RESULT line back, so tlrun and Keras can take turns on a
 * shared, noisy machine instead of being measured minutes apart.
 */
import { createInterface } from "node:readline";
import { decodeRate } from "./decode-bench";
import { exportWeights, extractRate, writeVerify } from "./extract-bench";
import { finetuneRate } from "./finetune-bench";
import { emit, parseArgs, useBackend } from "./common";

type Command = { cmd: string; [k: string]: unknown };

async function handle(c: Command): Promise<unknown> {
  const n = (k: string, d: number): number => (c[k] === undefined ? d : Number(c[k]));
  switch (c.cmd) {
    case "extract":
      return extractRate(n("size", 224), n("batches", 3), n("warmup", 1), c.saved_model as string | undefined, c.unfolded ? "unfolded" : c.eager ? "eager" : c.main ? "main" : "stage");
    case "verify":
      return writeVerify(n("size", 224), String(c.dir));
    case "export":
      return exportWeights(String(c.dir));
    case "finetune":
      return finetuneRate(Boolean(c.cached), n("steps", 8), c.unfolded ? "unfolded" : c.eager ? "eager" : "stage");
    case "decode":
      return decodeRate(n("size", 128), Boolean(c.augment), Boolean(c.pixel_cache));
    default:
      throw new Error(`unknown command ${c.cmd}`);
  }
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const tfBackend = await useBackend(args.backend ?? "native");
  emit({ ready: true, backend: args.backend, tf_backend: tfBackend });
  const rl = createInterface({ input: process.stdin });
  for await (const line of rl) {
    if (!line.trim()) continue;
    const c = JSON.parse(line) as Command;
    if (c.cmd === "exit") break;
    try {
      emit({ ok: true, ...(await handle(c) as object) });
    } catch (err) {
      emit({ ok: false, error: err instanceof Error ? err.message : String(err) });
    }
  }
  process.exit(0);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
