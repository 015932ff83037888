import { join } from "node:path";
import type { Manifest } from "../data/manifest";
import { batches } from "../data/loader";
import { depthFeatures } from "../models/pooled-depths";
import { poolSettings } from "../models/onnx/workers";
import { PROBE_FILE, type ProbeResult } from "../plan/probe-result";
import { probeDepths } from "../plan/strategy-depths";
import { strategySettings } from "../plan/strategy-table";
import { probeAccuracy } from "../training/probe-head";
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
 * Pooled (average) features of `rows` at every depth, one array of rows a depth, in one forward
 * pass: the base is cut at the deepest and read at each (models/pooled-depths.ts). Batches go to
 * the inference workers while the loader decodes the next, as in the extract stage.
 */
async function featuresAtDepths(ctx: StageContext, layers: string[], rows: Array<{ rel: string }>): Promise<Array<{ x: Float32Array; dim: number }>> {
  const [h, w] = ctx.config.base.input_size;
  const workers = poolSettings();
  const base = await depthFeatures(ctx.artifacts(), layers, [h, w], { batch: workers.batch, workers });
  try {
    const out = base.dims.map((dim) => ({ x: new Float32Array(rows.length * dim), dim }));
    const items = rows.map((r) => ({ abs: join(ctx.dataDir, r.rel) }));
    let done = 0;
    await inOrder(
      batches(items, imageOptions(ctx, 32)), workers.workers,
      (batch) => base.rowsAsync(batch.x, batch.n), // copies batch.x, which the loader refills next
      (got, { indices }) => {
        got.forEach((g, d) => indices.forEach((row, i) => out[d]!.x.set(g.subarray(i * out[d]!.dim, (i + 1) * out[d]!.dim), row * out[d]!.dim)));
        ctx.progress(`probing ${layers.length} depths: ${(done += indices.length)}/${rows.length} images`);
      },
      () => ctx.checkAbort(),
    );
    return out;
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
    const planned = probeDepths(ctx.loaded);
    const t0 = performance.now();
    const features = await featuresAtDepths(ctx, planned.map((d) => d.layer), all);
    const pass = (performance.now() - t0) / 1000 / planned.length; // one pass for all: its time shared out evenly
    const labels = (list: typeof all): Int32Array => Int32Array.from(list.map((r) => r.label));
    const depths: ProbeResult["depths"] = planned.map((d, i) => {
      const t1 = performance.now();
      const { x, dim } = features[i]!;
      ctx.progress(`probe head at ${d.layer} (${i + 1} of ${planned.length})`);
      const accuracy = probeAccuracy({ x: x.subarray(0, train.length * dim), y: labels(train) }, { x: x.subarray(train.length * dim), y: labels(val) }, { classes: manifest.classes.length, dim, seed: deriveSeed(ctx.config.seed, `probe-${d.layer}`) });
      return { ...d, accuracy, dim, seconds: pass + (performance.now() - t1) / 1000 };
    });
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
