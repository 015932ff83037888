/**
 * The audit against cleanlab's Datalab on the planted dataset (issue #22 §3, docs/audit.md):
 * builds `tlrun dataset emoji-planted`, runs `tlrun audit --json` on it, hands the very features
 * the audit read to Datalab (features alone, and with cross-validated LogisticRegression
 * pred_probs), and scores all three against planted.json.
 *
 *   node dist/bench/audit-compare.js [--work DIR] [--json OUT]
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildPlantedDataset, type PlantedTruth } from "../src/data/emoji-planted";
import { writeAuditFeatures } from "./audit-export";
import { datalabAnswer, scoreAudit, tlrunAnswer, type AuditScore } from "./audit-score";
import { ROOT, parseArgs } from "./common";

export interface Comparison {
  truth: PlantedTruth;
  tlrun: AuditScore;
  datalab: { features: AuditScore; pred_probs: AuditScore };
  seconds: { audit: number; datalab_features: number; datalab_pred_probs: number; probe: number };
  probe_accuracy: number;
  versions: { cleanlab: string; sklearn: string };
}

/** The pipeline the comparison audits: the quickstart's base at 128 px over the planted folder. */
export function plantedPipeline(dataDir: string, runsDir: string): string {
  return [
    "name: audit-planted", "seed: 42",
    `data: { dir: ${JSON.stringify(dataDir)}, preprocessing: auto, on_bad_image: skip }`,
    "base: { model: mobilenet_v2, cut: out_relu, input_size: [128, 128] }",
    "head: { pooling: avg, output: softmax }",
    "train: { head: { epochs: 1, optimizer: adam, learning_rate: 0.001, batch_size: 32 } }",
    `runtime: { runs_dir: ${JSON.stringify(runsDir)} }`, "",
  ].join("\n");
}

/** The python of the Datalab venv (scripts/python/setup-cleanlab.mjs), installed on first use; throws when pip cannot reach PyPI. */
export function datalabPython(): string {
  const r = spawnSync(process.execPath, [join(ROOT, "scripts", "python", "setup-cleanlab.mjs")], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
  if (r.status !== 0) throw new Error("could not set up the cleanlab venv (is PyPI reachable?)");
  return r.stdout.trim();
}

/** Run the whole comparison in `work`. */
export async function compareOnPlanted(work: string, python = datalabPython()): Promise<Comparison> {
  const data = join(work, "planted");
  const truth = await buildPlantedDataset({ out: data });
  const pipeline = join(work, "planted.yaml");
  writeFileSync(pipeline, plantedPipeline(data, join(work, "runs")));

  const t0 = performance.now();
  const audit = spawnSync(process.execPath, [join(ROOT, "bin", "tlrun.js"), "audit", pipeline, "--json"], { cwd: work, encoding: "utf8", maxBuffer: 256 * 2 ** 20 });
  const auditSeconds = (performance.now() - t0) / 1000;
  if (audit.status !== 0) throw new Error(`tlrun audit exited ${audit.status}: ${audit.stderr.slice(-2000)}`);
  const tlrun = scoreAudit(truth, tlrunAnswer(JSON.parse(audit.stdout)));

  const exported = writeAuditFeatures(pipeline, work);
  const out = join(work, "datalab.json");
  const py = spawnSync(python, [join(ROOT, "scripts", "python", "datalab_audit.py"), exported.features, exported.meta, out], { encoding: "utf8" });
  if (py.status !== 0) throw new Error(`datalab_audit.py exited ${py.status}: ${py.stderr.slice(-2000)}`);
  type Run = Parameters<typeof datalabAnswer>[0] & { seconds: number; probe_seconds?: number; probe_accuracy?: number };
  const dl = JSON.parse(readFileSync(out, "utf8")) as { cleanlab: string; sklearn: string; features: Run; pred_probs: Run };
  const paths = exported.exported.paths;
  return {
    truth, tlrun,
    datalab: { features: scoreAudit(truth, datalabAnswer(dl.features, paths)), pred_probs: scoreAudit(truth, datalabAnswer(dl.pred_probs, paths)) },
    seconds: { audit: auditSeconds, datalab_features: dl.features.seconds, datalab_pred_probs: dl.pred_probs.seconds, probe: dl.pred_probs.probe_seconds ?? 0 },
    probe_accuracy: dl.pred_probs.probe_accuracy ?? 0,
    versions: { cleanlab: dl.cleanlab, sklearn: dl.sklearn },
  };
}

/** The comparison as the Markdown table docs/audit.md shows. */
export function comparisonTable(c: Comparison): string {
  const pct = (x: number): string => `${(100 * x).toFixed(0)}%`;
  const row = (name: string, s: AuditScore): string =>
    `| ${name} | ${s.crossSplit.found}/${s.crossSplit.planted} (${pct(s.crossSplit.recall)}) | ${s.near.found}/${s.near.planted} | ${s.exactAcross.found + s.exactWithin.found}/${s.exactAcross.planted + s.exactWithin.planted} | ${s.others.length} | ${s.flippedInTop2F}/${s.flipped} |`;
  return [
    `| | planted cross-split pairs found | near copies | exact copies | other pairs flagged | flipped labels in the first 2×F = ${2 * c.tlrun.flipped} label issues |`,
    "|---|---|---|---|---|---|",
    row("tlrun audit", c.tlrun),
    row(`Datalab, features only (k-NN probabilities)`, c.datalab.features),
    row(`Datalab, features + 5-fold LogisticRegression pred_probs`, c.datalab.pred_probs),
  ].join("\n");
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const work = args.work ?? mkdtempSync(join(tmpdir(), "tlrun-audit-compare-"));
  mkdirSync(work, { recursive: true });
  const c = await compareOnPlanted(work);
  console.log(comparisonTable(c));
  console.log(`\ntimes: tlrun audit ${c.seconds.audit.toFixed(1)} s (with prepare and extract); Datalab ${c.seconds.datalab_features.toFixed(1)} s features only, ${c.seconds.datalab_pred_probs.toFixed(1)} s with pred_probs (+ ${c.seconds.probe.toFixed(1)} s for the probe, out-of-fold accuracy ${pct(c.probe_accuracy)}); cleanlab ${c.versions.cleanlab}, scikit-learn ${c.versions.sklearn}`);
  console.log(`\nsample of the other pairs tlrun flags:`);
  for (const p of c.tlrun.others.slice(0, 12)) console.log(`  ${p.kind ?? ""} ${p.similarity?.toFixed(3) ?? ""}  ${p.paths[0]}  ${p.paths[1]}`);
  if (args.json) writeFileSync(args.json, JSON.stringify(c, null, 1));
  console.log(`\nwork folder: ${work}`);
}

const pct = (x: number): string => `${(100 * x).toFixed(0)}%`;

if (require.main === module) {
  main().catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
