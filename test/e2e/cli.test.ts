import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { isSource, tempDir, tinyEmojiDataset, tinyPipeline, writeTree } from "../helpers";

const ROOT = resolve(__dirname, "../../..");
const BIN = join(ROOT, "bin/tlrun.js");

function tlrun(args: string[], cwd: string, env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: "utf8", env: { ...process.env, CI: "true", ...env } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, json: () => JSON.parse(r.stdout) };
}

function setup(t: import("node:test").TestContext, extra = "") {
  const root = tempDir(t);
  const data = tinyEmojiDataset(join(root, "data"));
  const file = join(root, "p.yaml");
  writeFileSync(file, tinyPipeline(data, join(root, "runs"), extra));
  return { root, file };
}

test("run, then all cached, then a head change re-runs train-head onward", async (t) => {
  const { root, file } = setup(t);
  const first = tlrun([file, "--json"], root);
  assert.equal(first.code, 0, first.stderr);
  const s1 = first.json();
  assert.equal(s1.status, "completed");
  assert.ok(["native", "wasm", "cpu"].includes(s1.backend));
  assert.ok(s1.stages.filter((s: { name: string }) => !isSource(s.name)).every((s: { cached: boolean }) => !s.cached));
  assert.ok(existsSync(join(s1.run_dir, "summary.json")));
  // every run ends with its report page and plots, no MLflow needed
  assert.match(readFileSync(join(s1.run_dir, "report.html"), "utf8"), /<section id="metrics">/);
  for (const png of ["confusion_matrix.png", "training_curves.png"]) assert.ok(existsSync(join(s1.run_dir, "plots", png)), png);
  const head = s1.stages.find((s: { name: string }) => s.name === "train-head");
  assert.equal(typeof head.info.epochs_run, "number", "the summary keeps a stage's scalar facts");

  const table = tlrun([file], root);
  assert.equal(table.code, 0, table.stderr);
  assert.match(table.stdout, /^run \S+ completed/);
  assert.match(table.stdout, /^ {2}class\s+precision\s+recall\s+specificity\s+F1\s+support$/m);
  assert.match(table.stdout, /^report: .*report\.html$/m);
  assert.doesNotMatch(table.stdout, /[{}]/, "no JSON without --json");

  const second = tlrun(["run", file, "--json"], root);
  assert.equal(second.code, 0, second.stderr);
  const s2 = second.json();
  assert.ok(s2.stages.every((s: { cached: boolean }) => s.cached), JSON.stringify(s2.stages));
  assert.equal(s2.metrics.test_accuracy, s1.metrics.test_accuracy);

  const third = tlrun([file, "--set", "head.dropout=0.3", "--json"], root);
  assert.equal(third.code, 0, third.stderr);
  const cached = Object.fromEntries(third.json().stages.map((s: { name: string; cached: boolean }) => [s.name, s.cached]));
  assert.deepEqual(cached, { dataset: true, weights: true, prepare: true, extract: true, audit: true, "train-head": false, unfreeze: false, "fine-tune": false, evaluate: false });

  const plan = tlrun(["plan", file], root);
  assert.equal(plan.code, 0, plan.stderr);
  for (const s of ["dataset", "weights", "prepare", "extract", "audit", "train-head", "unfreeze", "fine-tune", "evaluate"]) assert.match(plan.stdout, new RegExp(`${s}\\s+${isSource(s) ? "present" : "cached"}`));
  const planChanged = tlrun(["plan", file, "--set", "head.dropout=0.4", "--json"], root).json();
  assert.deepEqual(planChanged.stages.map((s: { cached: boolean }) => s.cached), [true, true, true, true, true, false, false, false, false]);
});

test("validate reports a misspelled key and a wrong type, located, exit 2, no stack", (t) => {
  const root = tempDir(t);
  const file = join(root, "bad.yaml");
  writeFileSync(file, "name: bad\ndata:\n  dir: x\nhed:\n  dropout: 0.2\ntrain:\n  head:\n    epochs: many\n");
  const r = tlrun(["validate", file], root);
  assert.equal(r.code, 2);
  const errors = r.stderr.split("\n").filter((l) => /:\d+:\d+: error:/.test(l));
  assert.equal(errors.length, 2, r.stderr);
  assert.match(r.stderr, /bad\.yaml:4:1: error: .*hed/);
  assert.match(r.stderr, /did you mean 'head'/);
  assert.match(r.stderr, /bad\.yaml:8:13: error: .*epochs/);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
  const run = tlrun([file], root);
  assert.equal(run.code, 2);
});

test("usage errors exit 2 without a stack trace", (t) => {
  const root = tempDir(t);
  for (const args of [["frobnicate"], ["run"], ["run", "x.yaml", "--bogus"], ["run", join(root, "missing.yaml")]]) {
    const r = tlrun(args, root);
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  }
});

test("a bad TLRUN_INFERENCE or TLRUN_INFERENCE_WORKERS is refused before the run starts, with a hint", (t) => {
  const { root, file } = setup(t);
  for (const [name, value, says] of [["TLRUN_INFERENCE", "onnxrt", /is not an engine/], ["TLRUN_INFERENCE", "tensorflow", /was removed/], ["TLRUN_INFERENCE_WORKERS", "two", /is not a whole number/]] as const) {
    const r = tlrun([file, "--json"], root, { [name]: value });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, new RegExp(`${name}=${value} `));
    assert.match(r.stderr, says);
    assert.match(r.stderr, /hint:/);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
    assert.equal(existsSync(join(root, "runs")), false, "no run record, no stage ran");
  }
});

/** Start a run, wait until the journal shows training, signal it; the next run resumes. */
async function interruptDuringHead(t: import("node:test").TestContext, signal: NodeJS.Signals, args: string[] = []) {
  const { root, file } = setup(t, "");
  writeFileSync(file, readFileSync(file, "utf8").replace("head: { epochs: 2,", "head: { epochs: 300,"));
  const child = spawn(process.execPath, [BIN, file, "--json", ...args], { cwd: root, env: { ...process.env, CI: "true" } });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => (stdout += d));
  child.stderr.on("data", (d) => (stderr += d));
  const runsDir = join(root, "runs");
  const deadline = Date.now() + 120_000;
  for (;;) {
    const runs = (existsSync(runsDir) ? require("node:fs").readdirSync(runsDir, { withFileTypes: true }) : []).filter((d: { isDirectory(): boolean; name: string }) => d.isDirectory() && !d.name.startsWith("."));
    const journal = runs.length ? join(runsDir, runs[0].name, "metrics.jsonl") : "";
    if (journal && existsSync(journal) && readFileSync(journal, "utf8").includes('"phase":"head"')) break;
    if (Date.now() > deadline) throw new Error("run never reached the head phase");
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill(signal);
  const code = await new Promise<number | null>((r) => child.on("close", r));
  return { root, file, code, stdout, stderr };
}

test("Ctrl-C stops cleanly with exit 130 and prints the command that resumes from the last completed stage", async (t) => {
  const { root, file, code, stderr, stdout } = await interruptDuringHead(t, "SIGINT", ["--set", "head.dropout=0.25", "--force"]);
  assert.equal(code, 130);
  const out = JSON.parse(stdout) as { status: string; exit_code: number; run_id: string; error: string };
  assert.deepEqual([out.status, out.exit_code], ["interrupted", 130], "--json prints the interrupted run as one object");
  assert.match(out.error, /To resume, run:/);
  const runs = require("node:fs").readdirSync(join(root, "runs")).filter((n: string) => !n.startsWith("."));
  const summary = JSON.parse(readFileSync(join(root, "runs", runs[0], "summary.json"), "utf8"));
  assert.equal(summary.status, "interrupted");
  assert.match(summary.error, /interrupted by SIGINT/);
  const completed = summary.stages.map((s: { name: string }) => s.name);
  assert.ok(completed.includes("extract") && !completed.includes("evaluate"), completed.join(","));
  // the hint keeps the user's --set and drops --force, which would recompute everything
  const hint = /To resume, run:\n {2}(.+)\n/.exec(stderr)?.[1];
  assert.ok(hint, stderr);
  assert.match(hint, /p\.yaml --json --set head\.dropout=0\.25$/);
  assert.ok(summary.error.includes(hint), "the run record keeps the same command");
  const pasted = spawnSync("sh", ["-c", hint], { cwd: root, encoding: "utf8", env: { ...process.env, CI: "true" } });
  const again = { code: pasted.status, stderr: pasted.stderr, json: () => JSON.parse(pasted.stdout) };
  assert.equal(again.code, 0, again.stderr);
  for (const s of again.json().stages as Array<{ name: string; cached: boolean }>)
    assert.equal(s.cached, completed.includes(s.name), `${s.name} cached=${s.cached}`);
});

test("a killed run (SIGKILL) leaves the cache usable", async (t) => {
  const { root, file, code } = await interruptDuringHead(t, "SIGKILL");
  assert.equal(code, null);
  const again = tlrun([file, "--json"], root);
  assert.equal(again.code, 0, again.stderr);
  assert.equal(again.json().stages[1].cached, true);
  const leftovers = require("node:fs").readdirSync(join(root, "runs", ".cache", "train-head")).filter((n: string) => n.includes(".tmp-"));
  assert.deepEqual(leftovers, []);
});

test("a built-in dataset is built on the first run, and the second run is all cache hits", async (t) => {
  const root = tempDir(t);
  const file = join(root, "q.yaml");
  writeFileSync(file, `name: builtin
data: { dir: emoji, builtin: emoji-google, exclude_classes: [flags, objects, symbols, travel-places, people-body, activities] }
base: { input_size: 32 }
augment: { feature_copies: 0 }
train: { head: { epochs: 1 } }
runtime: { runs_dir: ${JSON.stringify(join(root, "runs"))} }
`);
  const first = tlrun([file, "--json"], root);
  assert.equal(first.code, 0, first.stderr);
  assert.ok(existsSync(join(root, "emoji", "flags")));
  assert.deepEqual(first.json().stages.slice(0, 2).map((s: { name: string; cached: boolean }) => [s.name, s.cached]), [["dataset", false], ["weights", true]]);
  const second = tlrun([file, "--json"], root);
  assert.equal(second.code, 0, second.stderr);
  assert.deepEqual(second.json().stages.map((s: { cached: boolean }) => s.cached), [true, true, true, true, true, true, true]);
});

test("skin-resnet50.yaml validates, and an offline plan says the ResNet50 weights must be downloaded, and from where", (t) => {
  const root = tempDir(t);
  const cache = join(root, "cache");
  writeTree(join(root, "data"), { "akiec/1.jpg": "", "bcc/1.jpg": "", "bkl/1.jpg": "", "df/1.jpg": "", "mel/1.jpg": "", "nv/1.jpg": "", "vasc/1.jpg": "" }); // listed, never decoded: validate needs the classes only
  const data = ["--set", `data.dir=${join(root, "data")}`];
  const ok = tlrun(["validate", "pipelines/skin-resnet50.yaml", ...data], ROOT, { TLRUN_CACHE: cache });
  assert.equal(ok.code, 0, ok.stderr);
  const r = tlrun(["plan", "pipelines/skin-resnet50.yaml", ...data, "--json"], ROOT, { TLRUN_CACHE: cache });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /resnet50 weights are not cached; they must be downloaded from https:\/\/storage\.googleapis\.com\/tensorflow\/keras-applications\/resnet\/resnet50_weights_tf_dim_ordering_tf_kernels_notop\.h5/);
  const weights = r.json().stages.find((s: { name: string }) => s.name === "weights");
  assert.deepEqual([weights.source, weights.cached], [true, false], "the weights fetch is a stage of the plan, still to run");
  const freeze = r.json().freeze as { at: string; groups: Array<{ from_epoch: number; lr_factor: number }> };
  assert.ok(freeze.groups.length > 1, "gradual unfreezing with discriminative rates resolves to several layer groups at plan time");
  assert.deepEqual(r.json().stages.map((s: { name: string }) => s.name), ["dataset", "weights", "prepare", "extract", "audit", "train-head", "unfreeze", "fine-tune", "evaluate"]);
});

test("attention-vgg16.yaml validates, and an offline plan says VGG16's ImageNet weights must be downloaded, and from where", (t) => {
  const root = tempDir(t);
  const cache = join(root, "cache");
  writeTree(join(root, "data"), { "benign/1.jpg": "", "malignant/1.jpg": "" }); // listed, never decoded: validate needs the classes only
  const data = ["--set", `data.dir=${join(root, "data")}`];
  const ok = tlrun(["validate", "pipelines/attention-vgg16.yaml", ...data], ROOT, { TLRUN_CACHE: cache });
  assert.equal(ok.code, 0, ok.stderr);
  const r = tlrun(["plan", "pipelines/attention-vgg16.yaml", ...data, "--json"], ROOT, { TLRUN_CACHE: cache });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /attention_vgg16 weights are not cached; they must be downloaded from https:\/\/storage\.googleapis\.com\/tensorflow\/keras-applications\/vgg16\/vgg16_weights_tf_dim_ordering_tf_kernels_notop\.h5/);
  assert.deepEqual(r.json().stages.map((s: { name: string }) => s.name), ["dataset", "weights", "prepare", "extract", "audit", "train-head", "unfreeze", "fine-tune", "evaluate"]);
  const typo = tlrun(["validate", "pipelines/attention-vgg16.yaml", ...data, "--set", "base.cut=block5_conv"], ROOT, { TLRUN_CACHE: cache });
  assert.equal(typo.code, 2);
  assert.match(typo.stderr, /base\.cut 'block5_conv' is not a layer .*\n.*did you mean 'block5_conv1'/);
});

test("a typo in tb-vgg16.yaml's freeze point is a located error suggesting VGG16's real layer names", (t) => {
  const set = tlrun(["validate", "pipelines/tb-vgg16.yaml", "--set", "freeze.at=block5_conv"], ROOT);
  assert.equal(set.code, 2);
  assert.match(set.stderr, /^--set freeze\.at=block5_conv:1:11: error: freeze\.at 'block5_conv' is not a layer name, index, block or fraction of the base model \(19 layers\)$/m);
  assert.match(set.stderr, /hint: did you mean 'block5_conv1' or 'block5_conv2' or 'block5_conv3'\?/);
  const root = tempDir(t);
  const file = join(root, "tb-vgg16.yaml");
  const text = readFileSync(join(ROOT, "pipelines/tb-vgg16.yaml"), "utf8");
  const line = text.split("\n").findIndex((l) => l.includes("at: block5_conv1")) + 1;
  writeFileSync(file, text.replace("at: block5_conv1", "at: blok5_conv1"));
  for (const cmd of ["validate", "plan", "run"]) {
    const r = tlrun([cmd, file], root);
    assert.equal(r.code, 2, `${cmd}: ${r.stderr}`);
    assert.match(r.stderr, new RegExp(`tb-vgg16\\.yaml:${line}:7: error: freeze\\.at 'blok5_conv1' is not a layer name`), cmd);
    assert.match(r.stderr, /did you mean 'block5_conv1'/, cmd);
    assert.doesNotMatch(r.stderr, /\n\s+at /, cmd);
  }
});

test("doctor --json reports the native backend, compiled inference and compiled training steps working", (t) => {
  const r = tlrun(["doctor", "--json"], tempDir(t));
  assert.equal(r.code, 0, r.stderr);
  const report = r.json() as { backend: string; backends: Record<string, { ok: boolean }>; compiled_inference: { ok: boolean; engine: string; reason: string; detail: string }; compiled_training_step: { ok: boolean; detail: string } };
  assert.equal(report.backend, "native"); // CI installs the native backend (README install); a fallback here is a failure
  assert.equal(report.backends.native!.ok, true);
  assert.equal(report.backends.wasm!.ok, true);
  assert.equal(report.compiled_inference.ok, true, report.compiled_inference.detail);
  // the pinned onnxruntime-node and tfjs-node passed their checks (src/models/pins.ts)
  assert.deepEqual([report.compiled_inference.engine, report.compiled_inference.reason], ["onnxruntime", "auto"]);
  assert.equal(report.compiled_training_step.ok, true, report.compiled_training_step.detail);
  assert.match(report.compiled_training_step.detail, /^tensorflow graph, \d+ ops: 2 of 5 steps$/);
});
