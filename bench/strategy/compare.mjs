// The comparison of docs/strategy.md in one command: strategy: auto against the four fixed
// strategies, each run once with its own cold stage cache, one after another, on the quickstart's
// emoji and on stripes. After a build (npm run -s gen:types && npx tsc -p tsconfig.json):
//
//   node bench/strategy/compare.mjs [--datasets emoji,stripes] [--seed 42 | --seeds 42,1,2] [--only auto,ft-block_13 (in this order)]
//                                   [--variant 'name:path=value,path=value'] [--shared DIR] [--stripes DIR] [--out FILE]
//
// --variant adds a strategy: `path=value` pairs (values read as YAML) applied to the quickstart's
// pipeline, `-path` deletes a key. --shared DIR runs every variant against one runs folder, so the
// stages they share come from its cache (for comparing accuracies quickly; wall times are then
// not cold). --stripes DIR reuses a stripes folder (built there when empty; else in a new temporary
// folder, 300 images a class, make-stripes.mjs). --seeds runs every strategy on each seed's split
// (the seed also draws the split) and ends each dataset with the means over the seeds and issue
// #23's bar: auto within 1 point of the best fixed strategy's mean test accuracy, at no more than
// the median of the fixed strategies' mean wall times. The val accuracy is the final model's (what the fine-tune or head phase kept), which
// is what a choice between strategies may be made on; the test figures are the run's report.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parse, parseDocument } from "yaml";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const QUICKSTART = join(root, "pipelines/quickstart.yaml");

/** The four fixed strategies of issue #23 and auto, as edits of the quickstart's pipeline. */
const VARIANTS = {
  "head-out_relu": ["base.cut=out_relu", "train.fine_tune=null"],
  "head-block_13_project": ["base.cut=block_13_project", "train.fine_tune=null"],
  "ft-block_13": ["base.cut=out_relu", "freeze.at=block_13", "train.fine_tune.epochs=8"],
  "ft-block_10": ["base.cut=out_relu", "freeze.at=block_10", "train.fine_tune.epochs=8"],
  // the keys auto sets are left out of the file, so that the choice is auto's
  auto: ["strategy=auto", "-base.cut", "-freeze.at", "-train.fine_tune"],
};

function args(argv) {
  const o = { datasets: ["emoji", "stripes"], seed: undefined, seeds: undefined, only: undefined, variants: { ...VARIANTS }, shared: undefined, out: undefined, stripes: undefined };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = () => argv[++i] ?? usage(`${a} needs a value`);
    if (a === "--datasets") o.datasets = v().split(",");
    else if (a === "--seed") o.seed = Number(v());
    else if (a === "--seeds") o.seeds = v().split(",").map(Number);
    else if (a === "--only") o.only = v().split(",");
    else if (a === "--shared") o.shared = resolve(v());
    else if (a === "--out") o.out = resolve(v());
    else if (a === "--stripes") o.stripes = resolve(v());
    else if (a === "--variant") {
      const spec = v();
      const colon = spec.indexOf(":");
      if (colon < 1) usage(`--variant expects name:path=value,..., found '${spec}'`);
      o.variants[spec.slice(0, colon)] = spec.slice(colon + 1).split(",").filter(Boolean);
    } else usage(`unknown argument '${a}'`);
  }
  return o;
}

function usage(message) {
  console.error(`compare: ${message}\nusage: node bench/strategy/compare.mjs [--datasets emoji,stripes] [--seed N | --seeds N,M,...] [--only a,b] [--variant 'name:path=value,...'] [--shared DIR] [--stripes DIR] [--out FILE]`);
  process.exit(2);
}

/** The quickstart's pipeline with `edits` applied, on `dataDir`, written to `file`. */
function writePipeline(file, edits, dataDir, stripes, seed) {
  const doc = parseDocument(readFileSync(QUICKSTART, "utf8"));
  doc.setIn(["data", "dir"], dataDir);
  if (stripes) doc.deleteIn(["data", "builtin"]);
  if (seed !== undefined) doc.setIn(["seed"], seed);
  for (const e of edits) {
    if (e.startsWith("-")) doc.deleteIn(e.slice(1).split("."));
    else {
      const eq = e.indexOf("=");
      doc.setIn(e.slice(0, eq).split("."), parse(e.slice(eq + 1)));
    }
  }
  writeFileSync(file, doc.toString());
}

/** The final model's val accuracy: the fine-tune's kept epoch, else the head's. */
function valAccuracy(runDir, summary) {
  const epochs = readFileSync(join(runDir, "metrics.jsonl"), "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l)).filter((r) => r.type === "epoch");
  const config = parse(readFileSync(join(runDir, "config.resolved.yaml"), "utf8"));
  const stage = (name) => summary.stages.find((s) => s.name === name);
  const kept = (phase, cfg, info) => {
    const h = epochs.filter((r) => r.phase === phase);
    const es = cfg.early_stopping ?? {};
    const best = es.enabled && es.restore_best !== false && info.best_epoch > 0 ? h[info.best_epoch - 1] : h[h.length - 1];
    return best?.val_accuracy;
  };
  const ft = stage("fine-tune");
  if (ft) return ft.info?.kept_head ? ft.info.head_val_accuracy : kept("fine_tune", config.train.fine_tune, ft.info ?? {});
  return kept("head", config.train.head, stage("train-head")?.info ?? {});
}

function runOne(name, edits, dataset, dataDir, o, seed) {
  const scratch = mkdtempSync(join(tmpdir(), `tlrun-compare-${dataset}-${name}-`));
  const file = join(scratch, "pipeline.yaml");
  writePipeline(file, edits, dataDir, dataset === "stripes", seed);
  const runsDir = o.shared ?? join(scratch, "runs");
  const started = performance.now();
  const r = spawnSync(process.execPath, [join(root, "bin/tlrun.js"), "run", file, "--json", "--set", `runtime.runs_dir=${runsDir}`], { encoding: "utf8", maxBuffer: 1 << 28 });
  const wall = (performance.now() - started) / 1000;
  if (r.status !== 0) {
    console.error(r.stderr.slice(-4000));
    throw new Error(`${dataset}/${name} failed with exit code ${r.status}`);
  }
  const summary = JSON.parse(r.stdout);
  const report = JSON.parse(readFileSync(join(summary.run_dir, "report.json"), "utf8"));
  const seconds = Object.fromEntries(summary.stages.filter((s) => !s.cached).map((s) => [s.name, Math.round(s.seconds * 10) / 10]));
  const ftInfo = summary.stages.find((s) => s.name === "fine-tune")?.info;
  const row = {
    dataset, name, edits, seed: seed ?? parse(readFileSync(QUICKSTART, "utf8")).seed,
    choice: summary.strategy?.reason, val_accuracy: valAccuracy(summary.run_dir, summary),
    test_accuracy: report.accuracy, macro_f1: report.macro_f1, wall_seconds: Math.round(wall * 10) / 10, run_seconds: summary.seconds, stage_seconds: seconds,
    fine_tune: ftInfo ? { epochs_run: ftInfo.epochs_run, activation_views: ftInfo.activation_views, head_val_accuracy: ftInfo.head_val_accuracy, kept_head: ftInfo.kept_head } : null,
    run_dir: summary.run_dir,
  };
  if (!o.shared) rmSync(join(runsDir, ".cache"), { recursive: true, force: true }); // the run folder stays, its cache goes
  return row;
}

const f3 = (x) => (typeof x === "number" ? x.toFixed(3) : "–");
const line = (r) =>
  `| ${r.name} | ${f3(r.val_accuracy)} | ${f3(r.test_accuracy.value)} (${f3(r.test_accuracy.low)}–${f3(r.test_accuracy.high)}) | ${f3(r.macro_f1.value)} | ${r.wall_seconds.toFixed(0)} s | ${Object.entries(r.stage_seconds).filter(([, s]) => s >= 0.5).map(([n, s]) => `${n} ${s.toFixed(0)}`).join(", ")} |`;

const FIXED = ["head-out_relu", "head-block_13_project", "ft-block_13", "ft-block_10"];
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** Means over the seeds of a dataset's rows, and issue #23's bar when auto and the four fixed strategies all ran. */
function summarise(dataset, rowsOf) {
  const names = [...new Set(rowsOf.map((r) => r.name))];
  const stats = Object.fromEntries(names.map((n) => {
    const rs = rowsOf.filter((r) => r.name === n);
    return [n, { test: mean(rs.map((r) => r.test_accuracy.value)), val: mean(rs.map((r) => r.val_accuracy)), wall: mean(rs.map((r) => r.wall_seconds)), n: rs.length }];
  }));
  console.log(`\n${dataset}, mean over seeds ${[...new Set(rowsOf.map((r) => r.seed))].join(", ")}\n\n| strategy | test accuracy | val acc | wall |\n|---|---|---|---|`);
  for (const n of names) console.log(`| ${n} | ${f3(stats[n].test)} | ${f3(stats[n].val)} | ${stats[n].wall.toFixed(1)} s |`);
  if (!stats.auto || !FIXED.every((n) => stats[n])) return;
  const best = FIXED.reduce((b, n) => (stats[n].test > stats[b].test ? n : b));
  const walls = FIXED.map((n) => stats[n].wall).sort((a, b) => a - b);
  const median = (walls[1] + walls[2]) / 2;
  const accuracy = stats.auto.test >= stats[best].test - 0.01;
  const cost = stats.auto.wall <= median;
  console.log(`\nbar: accuracy ${accuracy ? "met" : "missed"} (auto ${f3(stats.auto.test)} against ${f3(stats[best].test)} for ${best}, ${((stats.auto.test - stats[best].test) * 100).toFixed(1)} points); ` +
    `cost ${cost ? "met" : "missed"} (auto ${stats.auto.wall.toFixed(1)} s against the fixed strategies' median ${median.toFixed(1)} s)`);
}

const o = args(process.argv.slice(2));
if (o.seeds && o.seed !== undefined) usage("give --seed or --seeds, not both");
const seeds = o.seeds ?? [o.seed];
const rows = [];
for (const dataset of o.datasets) {
  let dataDir = join(root, "data/emoji-google");
  if (dataset === "stripes") {
    dataDir = o.stripes ?? mkdtempSync(join(tmpdir(), "tlrun-compare-stripes-"));
    if (!existsSync(join(dataDir, "period-9"))) {
      const made = spawnSync(process.execPath, [join(root, "bench/strategy/make-stripes.mjs"), dataDir, "300"], { stdio: "inherit" });
      if (made.status !== 0) throw new Error("make-stripes failed");
    }
  } else if (dataset !== "emoji") usage(`unknown dataset '${dataset}' (emoji or stripes)`);
  for (const seed of seeds) {
    console.log(`\n${dataset}${seed === undefined ? "" : `, seed ${seed}`}\n\n| strategy | val acc | test accuracy (95% CI) | macro F1 | wall | stages run (s) |\n|---|---|---|---|---|---|`);
    // in --only's order when given, so that a second round can run them in reverse
    for (const name of o.only ?? Object.keys(o.variants)) {
      const edits = o.variants[name] ?? usage(`no strategy named '${name}' (${Object.keys(o.variants).join(", ")})`);
      const row = runOne(name, edits, dataset, dataDir, o, seed);
      rows.push(row);
      console.log(line(row));
      if (o.out) writeFileSync(o.out, JSON.stringify(rows, null, 2));
    }
    for (const r of rows.filter((r) => r.dataset === dataset && r.choice && r.seed === (seed ?? r.seed))) console.log(`\n${r.name} chose: ${r.choice}`);
  }
  summarise(dataset, rows.filter((r) => r.dataset === dataset));
}
