import { join } from "node:path";
import type { Manifest } from "../data/manifest";
import { batches } from "../data/loader";
import { featureExtractor } from "../models/graph";
import { poolSettings } from "../models/onnx/workers";
import { PROBE_FILE, type ProbeResult } from "../plan/probe-result";
import { probeDepths } from "../plan/strategy-depths";
import { strategySettings } from "../plan/strategy-table";
import { probeAccuracy, type LabelledRows } from "../training/probe-head";
import { writeFileAtomic } from "../util/atomic";
import { deriveSeed, Rng } from "../util/rng";
import { imageOptions } from "./extract";
import { readManifest } from "./prepare";
import { input, type Stage, type StageContext } from "./types";
import { inOrder } from "../util/in-order";

/**
 * A seeded stratified subsample of one split: up to `perClass` images of each class, drawn
 * without replacement in a shuffled order that depends on the seed and the paths alone.
 */
export function stratifiedSample(manifest: Manifest, split: "train" | "val", perClass: number, seed: number): Array<{ rel: string; label: number }> {
  const rng = new Rng(deriveSeed(seed, `probe-${split}`));
  const byClass = manifest.classes.map(() => [] as Array<{ rel: string; label: number }>);
  for (const it of [...manifest.items].sort((a, b) => (a.rel < b.rel ? -1 : 1))) if (it.split === split) byClass[it.label]!.push({ rel: it.rel, label: it.label });
  return byClass.flatMap((rows) => rng.shuffle(rows).slice(0, perClass));
}

/** The curve's shape in one phrase, as `tlrun plan` and the docs speak of it. */
export function curveShape(depths: ReadonlyArray<{ layer: string; accuracy: number }>): string {
  const best = depths.reduce((b, d) => (d.accuracy >= b.accuracy ? d : b));
  if (best === depths[depths.length - 1]) return "rising";
  if (best === depths[0]) return "falling";
  return `peaks at ${best.layer}`;
}

/**
 * Pooled (average) features of `rows` at `layer`, one row per image. Batches go to the inference
 * workers while the loader decodes the next, as in the extract stage; the features are the same
 * as on this thread, so the probe's accuracies are too.
 */
async function featuresAt(ctx: StageContext, layer: string, rows: Array<{ rel: string }>): Promise<{ x: Float32Array; dim: number }> {
  const [h, w] = ctx.config.base.input_size;
  const workers = poolSettings();
  const base = await featureExtractor(ctx.artifacts(), layer, [h, w], { batch: workers.batch, workers });
  try {
    const dim = base.featureShape[base.featureShape.length - 1]!;
    const x = new Float32Array(rows.length * dim);
    const items = rows.map((r) => ({ abs: join(ctx.dataDir, r.rel) }));
    await inOrder(
      batches(items, imageOptions(ctx, 32)), workers.workers,
      (batch) => base.rowsAsync(batch.x, batch.n), // copies batch.x, which the loader refills next
      (got, { indices }) => indices.forEach((row, i) => x.set(got.subarray(i * 2 * dim, i * 2 * dim + dim), row * dim)), // [avg | max] per row
      () => ctx.checkAbort(),
    );
    return { x, dim };
  } finally {
    base.dispose();
  }
}

/** probe: strategy: auto's evidence, a small head's val accuracy at 3-4 depths of the base on a small seeded sample. */
export const probe: Stage = {
  name: "probe",
  needsTf: true,
  async run(ctx) {
    const manifest = readManifest(input(ctx, "prepare").dir);
    const s = strategySettings(ctx.config);
    const train = stratifiedSample(manifest, "train", s.probe_train_per_class, ctx.config.seed);
    const val = stratifiedSample(manifest, "val", s.probe_val_per_class, ctx.config.seed);
    if (val.length === 0) throw new Error("strategy: auto needs validation images to score its probe, and the val split is empty; give data.split a val share");
    const all = [...train, ...val];
    const depths: ProbeResult["depths"] = [];
    const planned = probeDepths(ctx.loaded);
    for (const d of planned) {
      const t0 = performance.now();
      ctx.progress(`probing ${d.layer} (${depths.length + 1} of ${planned.length}): ${train.length} train and ${val.length} val images`);
      const { x, dim } = await featuresAt(ctx, d.layer, all);
      const rows = (from: number, to: number, list: typeof all): LabelledRows => ({ x: x.subarray(from * dim, to * dim), y: Int32Array.from(list.map((r) => r.label)) });
      const accuracy = probeAccuracy(rows(0, train.length, train), rows(train.length, all.length, val), { classes: manifest.classes.length, dim, seed: deriveSeed(ctx.config.seed, `probe-${d.layer}`) });
      depths.push({ ...d, accuracy, dim, seconds: (performance.now() - t0) / 1000 });
    }
    const result: ProbeResult = {
      train_images: manifest.items.filter((it) => it.split === "train").length,
      classes: manifest.classes.length,
      sample: { train: train.length, val: val.length },
      depths,
      shape: curveShape(depths),
    };
    writeFileAtomic(join(ctx.out, PROBE_FILE), JSON.stringify(result, null, 2));
    return { info: { probe_shape: result.shape, ...Object.fromEntries(depths.map((d) => [`probe_${d.layer}`, d.accuracy])) } };
  },
};
