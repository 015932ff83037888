/**
 * How well the audit ranks planted label errors: flips `--flip` (default 3%) of a class-folder
 * dataset's labels to a random other class (seeded), runs the label-issue finder on the plain
 * MobileNetV2 features under several settings, and counts the flips among the first 2×F issues
 * (F = number flipped), the figure the cleanlab Datalab comparison uses.
 *
 *   node dist/bench/audit-labels.js --dir data/emoji-google [--features /tmp/x.f32] [--flip 0.03] [--seeds 3]
 */
import { join } from "node:path";
import { labelIssues, type LabelIssueOptions } from "../src/audit/label-issues";
import { nearestNeighbours } from "../src/audit/neighbours";
import { standardise, unitRows } from "../src/audit/standardise";
import { LABEL_DEFAULTS } from "../src/audit/defaults";
import { Rng } from "../src/util/rng";
import { cachedFeatures } from "./audit-features";
import { listImages, parseArgs, ROOT, useBackend } from "./common";

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const dir = args.dir ?? join(ROOT, "data", "emoji-google");
  const items = listImages(dir);
  const classes = Math.max(...items.map((it) => it.label)) + 1;
  const f = await cachedFeatures(items, args.features);
  const width = f.length / items.length;
  const rate = Number(args.flip ?? 0.03);
  const variants: Record<string, { cols: "avg" | "all"; opts: LabelIssueOptions }> = {
    default: { cols: "all", opts: LABEL_DEFAULTS },
    probe_only: { cols: "all", opts: { ...LABEL_DEFAULTS, knn: 0, probeWeight: 1 } },
    knn_only: { cols: "all", opts: { ...LABEL_DEFAULTS, probeWeight: 0 } },
    avg_half: { cols: "avg", opts: LABEL_DEFAULTS },
    ...Object.fromEntries([1e-4, 1e-3, 1e-2, 1e-1].map((l2) => [`l2_${l2}`, { cols: "all" as const, opts: { ...LABEL_DEFAULTS, probe: { ...LABEL_DEFAULTS.probe, l2 } } }])),
  };
  const chosen = args.variants ? args.variants.split(",") : Object.keys(variants);
  const result: Record<string, unknown> = { dir, images: items.length, classes, flip: rate };
  for (const name of chosen) {
    const v = variants[name]!;
    const x = standardise(f, width, 0, v.cols === "avg" ? width / 2 : width, true);
    const d = v.cols === "avg" ? width / 2 : width;
    const nb = v.opts.knn > 0 ? nearestNeighbours(unitRows({ features: f, width, from: 0, cols: d }), d, v.opts.knn) : undefined;
    const runs = [];
    for (let s = 1; s <= Number(args.seeds ?? 3); s++) {
      const rng = new Rng(1000 + s);
      const labels = Int32Array.from(items, (it) => it.label);
      const flipped = new Set(rng.shuffle(items.map((_, i) => i)).slice(0, Math.round(rate * items.length)));
      for (const i of flipped) labels[i] = (labels[i]! + 1 + rng.int(classes - 1)) % classes;
      const t0 = performance.now();
      const { issues } = labelIssues(x, d, labels, classes, s, v.opts, nb);
      const seconds = (performance.now() - t0) / 1000;
      const top = issues.slice(0, 2 * flipped.size);
      const hits = top.filter((it) => flipped.has(it.index)).length;
      const suggestedRight = top.filter((it) => flipped.has(it.index) && it.suggested === items[it.index]!.label).length;
      runs.push({ flipped: flipped.size, flagged: issues.length, hits_in_top_2F: hits, flagged_flips: issues.filter((it) => flipped.has(it.index)).length, suggested_right: suggestedRight, seconds: +seconds.toFixed(1) });
    }
    result[name] = { runs, mean_hits: +(runs.reduce((s, r) => s + r.hits_in_top_2F, 0) / runs.length).toFixed(1) };
    process.stderr.write(`${name}: ${JSON.stringify(result[name])}\n`);
  }
  process.stdout.write(JSON.stringify(result, null, 1) + "\n");
}

if (require.main === module) {
  useBackend(process.env.TLRUN_BACKEND ?? "auto").then(main).catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
