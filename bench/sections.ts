/**
 * The model-side sections: extraction (tlrun backends vs Keras predict, outputs verified equal),
 * fine-tune steps (tlrun fit vs Keras fit) and loader throughput against extraction. Each round
 * measures the contenders back to back, and ratios are taken within a round.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { median, type Context } from "./context";

const SIZES = [224, 128];

/** Weights and verification batches for the Keras worker; idempotent within a run. */
async function shareWeights(ctx: Context): Promise<void> {
  if (existsSync(join(ctx.tmp, "weights.bin"))) return;
  const native = await ctx.tlrun("native");
  ctx.raw.weights_export = await native.call({ cmd: "export", dir: ctx.tmp });
  for (const size of SIZES) await native.call({ cmd: "verify", size, dir: ctx.tmp });
}

export async function extractSection(ctx: Context): Promise<void> {
  await shareWeights(ctx);
  const native = await ctx.tlrun("native");
  const keras = await ctx.keras();
  const wasm = await ctx.tlrun("wasm");
  const savedModels: Record<number, string> = {};
  for (const size of SIZES) {
    const v = await keras.call({ cmd: "verify", size, dir: ctx.tmp });
    ctx.raw[`verify_${size}`] = v;
    ctx.add({ section: "extract", metric: `outputs match Keras, ${size}px (max |diff| of pooled features)`, tlrun: v.max_abs_diff, target: "< 1e-3", pass: v.max_abs_diff! < 1e-3, note: `max |feature| ${v.max_abs_value!.toFixed(2)}, argmax agree ${v.argmax_agree}` });
    try {
      const out = join(ctx.tmp, `frozen-${size}`);
      if (!existsSync(out)) await keras.call({ cmd: "export_savedmodel", size, dir: ctx.tmp, out });
      savedModels[size] = out;
    } catch (err) {
      ctx.raw[`saved_model_${size}_error`] = String(err);
    }
  }
  const rates: Record<string, number[]> = {};
  const push = (k: string, v: number): number => ((rates[k] ??= []).push(v), v);
  const batchesFor = (size: number): number => size === 224 ? 3 : 6;
  for (let r = 0; r < ctx.opts.rounds; r++) {
    for (const size of SIZES) {
      const b = batchesFor(size);
      const warmup = r === 0 ? 1 : 0;
      const n = push(`native_${size}`, (await native.call({ cmd: "extract", size, batches: b, warmup })).img_per_s!);
      const k = push(`keras_${size}`, (await keras.call({ cmd: "extract", size, dir: ctx.tmp, batches: b, warmup })).img_per_s!);
      push(`ratio_${size}`, n / k);
      const o = push(`main_${size}`, (await native.call({ cmd: "extract", size, batches: b, warmup, main: true })).img_per_s!);
      push(`main_ratio_${size}`, o / k);
      push(`workers_gain_${size}`, n / o);
      const e = push(`eager_${size}`, (await native.call({ cmd: "extract", size, batches: b, warmup, eager: true })).img_per_s!);
      push(`eager_ratio_${size}`, e / k);
      push(`graph_gain_${size}`, o / e);
      const u = push(`unfolded_${size}`, (await native.call({ cmd: "extract", size, batches: b, warmup, unfolded: true })).img_per_s!);
      push(`unfolded_ratio_${size}`, u / k);
      push(`fold_gain_${size}`, e / u);
      if (savedModels[size]) {
        const s = push(`savedmodel_${size}`, (await native.call({ cmd: "extract", size, batches: b, warmup, saved_model: savedModels[size] })).img_per_s!);
        push(`sm_ratio_${size}`, s / k);
      }
      const w = push(`wasm_${size}`, (await wasm.call({ cmd: "extract", size, batches: Math.max(1, b / 3), warmup })).img_per_s!);
      push(`nw_ratio_${size}`, n / w);
    }
  }
  ctx.stop("wasm");
  const cpu = await ctx.tlrun("cpu");
  for (const size of SIZES) push(`cpu_${size}`, (await cpu.call({ cmd: "extract", size, batches: 1, warmup: 0 })).img_per_s!);
  ctx.stop("cpu");
  ctx.raw.extract = rates;
  for (const size of SIZES) {
    const m = (k: string): number | undefined => (rates[k] ? median(rates[k]!) : undefined);
    ctx.add({ section: "extract", metric: `native img/s, ${size}px, batch 32, ONNX Runtime on the stage's worker sessions (vs Keras predict)`, tlrun: m(`native_${size}`), reference: m(`keras_${size}`), refName: "keras", ratio: m(`ratio_${size}`), target: ">= 1.0x", pass: m(`ratio_${size}`)! >= 1 });
    ctx.add({ section: "extract", metric: `before: native, one ONNX Runtime session of all threads on the main thread img/s, ${size}px`, tlrun: m(`main_${size}`), reference: m(`keras_${size}`), refName: "keras", ratio: m(`main_ratio_${size}`), note: `worker sessions gain (same round) ${m(`workers_gain_${size}`)!.toFixed(2)}x` });
    ctx.add({ section: "extract", metric: `before all: native folded base op by op (not compiled) img/s, ${size}px`, tlrun: m(`eager_${size}`), reference: m(`keras_${size}`), refName: "keras", ratio: m(`eager_ratio_${size}`), note: `graph gain (ONNX Runtime on the main thread/eager, same round) ${m(`graph_gain_${size}`)!.toFixed(2)}x` });
    ctx.add({ section: "extract", metric: `before folding: native LayersModel.predict (BatchNorm not folded) img/s, ${size}px`, tlrun: m(`unfolded_${size}`), reference: m(`keras_${size}`), refName: "keras", ratio: m(`unfolded_ratio_${size}`), note: `folding gain (folded eager/unfolded, same round) ${m(`fold_gain_${size}`)!.toFixed(2)}x` });
    ctx.add({ section: "extract", metric: `wasm img/s, ${size}px (native/wasm)`, tlrun: m(`wasm_${size}`), reference: m(`native_${size}`), refName: "native", ratio: m(`nw_ratio_${size}`) });
    ctx.add({ section: "extract", metric: `cpu (pure JS) img/s, ${size}px, 32 images`, tlrun: m(`cpu_${size}`), reference: m(`native_${size}`), refName: "native", ratio: m(`native_${size}`)! / m(`cpu_${size}`)!, note: "ratio = native/cpu" });
    if (rates[`savedmodel_${size}`])
      ctx.add({ section: "extract", metric: `diagnostic: same net as frozen TF graph in tfjs-node, ${size}px`, tlrun: m(`savedmodel_${size}`), reference: m(`keras_${size}`), refName: "keras", ratio: m(`sm_ratio_${size}`), note: "tf.node.loadSavedModel, one session call per batch" });
  }
}

export async function finetuneSection(ctx: Context): Promise<void> {
  await shareWeights(ctx);
  const native = await ctx.tlrun("native");
  const keras = await ctx.keras();
  const rates: Record<string, number[]> = {};
  const push = (k: string, v: number): number => ((rates[k] ??= []).push(v), v);
  for (const cached of [false, true]) {
    await native.call({ cmd: "finetune", cached, steps: 5 }); // warm-up: graph tracing, Adam slots
    await native.call({ cmd: "finetune", cached, steps: 5, unfolded: true });
    await native.call({ cmd: "finetune", cached, steps: 5, eager: true });
    await keras.call({ cmd: "finetune", cached, dir: ctx.tmp, steps: 3 });
  }
  let setupSteps = 0; // untimed steps at the start of each fit, as the worker reports them
  for (let r = 0; r < ctx.opts.rounds; r++) {
    for (const cached of [false, true]) {
      const steps = cached ? 24 : 10;
      const run = await native.call({ cmd: "finetune", cached, steps });
      const t = run.steps_per_s!;
      push(`setup_s_${cached ? "cached" : "full"}`, run.setup_s!);
      setupSteps = run.setup_steps!;
      const k = (await keras.call({ cmd: "finetune", cached, dir: ctx.tmp, steps })).steps_per_s!;
      push(`tlrun_${cached ? "cached" : "full"}`, t);
      push(`keras_${cached ? "cached" : "full"}`, k);
      push(`ratio_${cached ? "cached" : "full"}`, t / k);
      const u = (await native.call({ cmd: "finetune", cached, steps, unfolded: true })).steps_per_s!;
      push(`unfolded_${cached ? "cached" : "full"}`, u);
      push(`unfolded_ratio_${cached ? "cached" : "full"}`, u / k);
      push(`fold_gain_${cached ? "cached" : "full"}`, t / u);
      const e = (await native.call({ cmd: "finetune", cached, steps, eager: true })).steps_per_s!;
      push(`eager_${cached ? "cached" : "full"}`, e);
      push(`eager_ratio_${cached ? "cached" : "full"}`, e / k);
      push(`compiled_gain_${cached ? "cached" : "full"}`, t / e);
    }
  }
  ctx.raw.finetune = rates;
  for (const v of ["full", "cached"]) {
    const label = v === "full" ? "fine-tune steps/s, 128px, batch 32, from block_13_expand" : "fine-tune steps/s, cached frozen activations (top only)";
    ctx.add({ section: "fine-tune", metric: label, tlrun: median(rates[`tlrun_${v}`]!), reference: median(rates[`keras_${v}`]!), refName: "keras fit", ratio: median(rates[`ratio_${v}`]!), target: ">= 0.8x", pass: median(rates[`ratio_${v}`]!) >= 0.8,
      note: `steady steps after the first ${setupSteps} (Keras: after its first); recording, compiling and checking the step cost ${median(rates[`setup_s_${v}`]!).toFixed(2)} s once per fit` });
  }
  for (const v of ["full", "cached"])
    ctx.add({ section: "fine-tune", metric: `before, ${v}: steps op by op (TLRUN_COMPILED_STEP=0)`, tlrun: median(rates[`eager_${v}`]!), reference: median(rates[`keras_${v}`]!), refName: "keras fit", ratio: median(rates[`eager_ratio_${v}`]!), note: `compiled-step gain (same round) ${median(rates[`compiled_gain_${v}`]!).toFixed(2)}x` });
  for (const v of ["full", "cached"])
    ctx.add({ section: "fine-tune", metric: `before, ${v}: LayersModels as they are (BatchNorm not folded)`, tlrun: median(rates[`unfolded_${v}`]!), reference: median(rates[`keras_${v}`]!), refName: "keras fit", ratio: median(rates[`unfolded_ratio_${v}`]!), note: `folding gain (same round) ${median(rates[`fold_gain_${v}`]!).toFixed(2)}x` });
  ctx.add({ section: "fine-tune", metric: "tlrun cached / tlrun full (speedup from caching activations)", ratio: median(rates.tlrun_cached!) / median(rates.tlrun_full!) });
}

export async function decodeSection(ctx: Context): Promise<void> {
  const native = await ctx.tlrun("native");
  const rates: Record<string, number[]> = {};
  const push = (k: string, v: number): number => ((rates[k] ??= []).push(v), v);
  await native.call({ cmd: "extract", size: 128, batches: 1, warmup: 1 });
  // warm-up, as for extraction: starts the decode workers and compiles the decoder's code, so every round times the same steady state
  await native.call({ cmd: "decode", size: 128, augment: false, pixel_cache: false });
  for (let r = 0; r < Math.max(2, ctx.opts.rounds - 1); r++) {
    const ex = push("extract_128", (await native.call({ cmd: "extract", size: 128, batches: 6, warmup: 0 })).img_per_s!);
    for (const [name, augment, pixel_cache] of [["plain", false, false], ["aug", true, false], ["aug_cache", true, true]] as const) {
      const d = await native.call({ cmd: "decode", size: 128, augment, pixel_cache });
      push(`${name}_cold`, d.cold_img_per_s!);
      push(`${name}_warm`, d.warm_img_per_s!);
      push(`${name}_cold_ratio`, d.cold_img_per_s! / ex);
      push(`${name}_warm_ratio`, d.warm_img_per_s! / ex);
    }
  }
  ctx.raw.decode = rates;
  const m = (k: string): number => median(rates[k]!);
  const row = (metric: string, k: string, target?: string): void =>
    ctx.add({ section: "data", metric, tlrun: m(k), reference: m("extract_128"), refName: "native extract", ratio: m(`${k}_ratio`), target, pass: target ? m(`${k}_ratio`) >= 5 : undefined });
  row("decode+resize img/s, 128px (no augment), first pass", "plain_cold", ">= 5x");
  row("decode+resize+augment img/s, 128px, first pass", "aug_cold", ">= 5x");
  row("decode+resize+augment, later epoch, pixel cache off (before)", "aug_warm");
  row("decode+resize+augment, later epoch, pixel cache on (after)", "aug_cache_warm", ">= 5x");
}
