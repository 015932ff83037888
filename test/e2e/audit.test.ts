import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { tempDir, tinyEmojiDataset } from "../helpers";
import { artifactsOf, readJournal } from "../../src/tracking/journal";

const ROOT = resolve(__dirname, "../../..");
const BIN = join(ROOT, "bin/tlrun.js");
const SLOW = { skip: process.env.TLRUN_FAST ? "slow: TLRUN_FAST is set" : false };

function tlrun(args: string[], cwd: string) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: "utf8", env: { ...process.env, CI: "true" } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, json: () => JSON.parse(r.stdout) };
}

/**
 * Real emoji in train/val/test folders (8/2/2 per class), and one train image copied into test
 * under a new name: the planted leak. `audit` is the YAML's data.audit line.
 */
function setup(t: import("node:test").TestContext, audit = "") {
  const root = tempDir(t, "tlrun-audit-");
  const all = tinyEmojiDataset(join(root, "all"), 12);
  for (const cls of readdirSync(all))
    readdirSync(join(all, cls)).sort().forEach((f, i) => {
      const split = i < 8 ? "train" : i < 10 ? "val" : "test";
      mkdirSync(join(root, "data", split, cls), { recursive: true });
      renameSync(join(all, cls, f), join(root, "data", split, cls, f));
    });
  const original = readdirSync(join(root, "data", "train", "flags")).sort()[0]!;
  copyFileSync(join(root, "data", "train", "flags", original), join(root, "data", "test", "flags", `copy-${original}`));
  const file = join(root, "p.yaml");
  writeFileSync(file, `name: audit
seed: 7
data:
  dir: data
${audit ? `  audit: ${audit}\n` : ""}base:
  model: mobilenet_v2
  input_size: [32, 32]
head:
  layers: []
train:
  head: { epochs: 2, batch_size: 8 }
evaluate:
  bootstrap: 20
  explain: { n: 0 }
runtime:
  runs_dir: runs
`);
  return { root, file, leak: [`test/flags/copy-${original}`, `train/flags/${original}`] };
}

test("tlrun audit --json prints one object in the issue's shape, finds the planted copy across splits, and a second audit is cached", async (t) => {
  const { root, file, leak } = setup(t);
  const r = tlrun(["audit", file, "--json"], root);
  assert.equal(r.code, 0, r.stderr);
  const out = r.json();
  assert.deepEqual(Object.keys(out), ["duplicates", "label_issues", "outliers"]);
  const pair = out.duplicates.find((d: { paths: string[] }) => [...d.paths].sort().join() === [...leak].sort().join());
  assert.ok(pair, `the planted pair ${leak.join(" ~ ")} is among ${JSON.stringify(out.duplicates)}`);
  assert.deepEqual(Object.keys(pair).sort(), ["kind", "paths", "similarity", "splits"]);
  assert.equal(pair.kind, "exact");
  assert.equal(pair.similarity, 1);
  assert.deepEqual(pair.splits, ["train", "test"], "the earlier split first");
  assert.deepEqual(pair.paths, [leak[1], leak[0]]);
  for (const l of out.label_issues) {
    assert.deepEqual(Object.keys(l).sort(), ["label", "path", "score", "suggested"]);
    assert.ok(["flags", "food-drink", "smileys-emotion"].includes(l.label) && ["flags", "food-drink", "smileys-emotion"].includes(l.suggested), JSON.stringify(l));
    assert.ok(existsSync(join(root, "data", l.path)), `${l.path} is relative to data.dir`);
  }
  for (const o of out.outliers) assert.deepEqual(Object.keys(o).sort(), ["path", "score"]);

  const runs = readdirSync(join(root, "runs")).filter((d) => !d.startsWith("."));
  assert.equal(runs.length, 1);
  const dir = join(root, "runs", runs[0]!, "audit");
  for (const csv of ["duplicates.csv", "label_issues.csv", "outliers.csv"]) assert.ok(existsSync(join(dir, csv)), csv);
  assert.match(readFileSync(join(dir, "duplicates.csv"), "utf8"), new RegExp(`^path_a,split_a,path_b,split_b,kind,similarity,signal\n.*copy-.*exact,1,pixels`, "m"));

  const again = tlrun(["audit", file], root);
  assert.equal(again.code, 0, again.stderr);
  // at 32 px some different emoji pass for near duplicates too (genuine look-alikes), so the counts are "at least"
  assert.match(again.stdout, /^LEAK: \d+ test images? and \d+ val images? have a twin in train/m);
  assert.match(again.stdout, new RegExp(`^  ${leak[1]} \\(train\\) ~ ${leak[0]} \\(test\\)  exact: pixel-identical$`, "m"), "the exact pair across splits comes first");
  const second = readdirSync(join(root, "runs")).filter((d) => !d.startsWith(".") && d !== runs[0]);
  const summary = JSON.parse(readFileSync(join(root, "runs", second[0]!, "summary.json"), "utf8"));
  assert.deepEqual(summary.stages.filter((s: { cached: boolean }) => !s.cached).map((s: { name: string }) => s.name), [], "the second audit ran nothing");
  assert.deepEqual(summary.stages.map((s: { name: string }) => s.name), ["dataset", "weights", "prepare", "extract", "audit"]);
  const page = readFileSync(join(root, "runs", runs[0]!, "report.html"), "utf8");
  const ids = [...page.matchAll(/<section id="([a-z-]+)">/g)].map((m) => m[1]);
  assert.deepEqual(ids.slice(0, 3), ["warnings", "audit", "metrics"], "an audit run's page opens on the audit");
  assert.match(page, /No evaluation: this run stopped after the data audit, as tlrun audit does/);
});

test("leakage: error stops the run after the audit with a located message naming the pair", SLOW, async (t) => {
  const { root, file, leak } = setup(t, "{ leakage: error }");
  const r = tlrun(["run", file], root);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:5:21: error: the audit found leakage: \\d+ test (images? )?(and \\d+ val images? )?ha(s|ve) a twin in train`));
  assert.ok(r.stderr.includes(leak[0]!) && r.stderr.includes(leak[1]!), r.stderr);
  const run = readdirSync(join(root, "runs")).filter((d) => !d.startsWith("."))[0]!;
  const summary = JSON.parse(readFileSync(join(root, "runs", run, "summary.json"), "utf8"));
  assert.equal(summary.status, "failed");
  assert.ok(!summary.stages.some((s: { name: string }) => s.name === "train-head"), "nothing trained");
  assert.ok(existsSync(join(root, "runs", run, "audit", "duplicates.csv")), "the run keeps what the audit found");
});

test("leakage: drop leaves the test twin out of evaluation, says so, and the report shows the audit", SLOW, async (t) => {
  const { root, file, leak } = setup(t);
  const warn = tlrun(["run", file, "--json"], root);
  assert.equal(warn.code, 0, warn.stderr);
  const w = warn.json();
  assert.equal(w.stages.find((s: { name: string }) => s.name === "evaluate").info.images, 7);
  assert.ok(w.warnings.some((m: string) => /^AUDIT: \d+ test (images? )?(and \d+ val images? )?ha(s|ve) a twin in train \(\d+ pairs? across splits; \d+ of these images pixel-identical/.test(m)), JSON.stringify(w.warnings));

  const drop = tlrun(["run", file, "--set", "data.audit.leakage=drop", "--json"], root);
  assert.equal(drop.code, 0, drop.stderr);
  const d = drop.json();
  const dropped = readFileSync(join(d.run_dir, "audit", "dropped.csv"), "utf8").trim().split("\n").slice(1);
  assert.ok(dropped.some((l) => l.startsWith(`${leak[0]},test,leakage,`)), dropped.join("\n"));
  const droppedTest = dropped.filter((l) => l.split(",")[1] === "test").length;
  assert.equal(d.stages.find((s: { name: string }) => s.name === "evaluate").info.images, 7 - droppedTest, "evaluate saw the dropped test images fewer");
  assert.ok(d.stages.find((s: { name: string }) => s.name === "extract").cached, "extract is shared with the warn run");
  assert.ok(d.warnings.some((m: string) => new RegExp(`^AUDIT: dropped ${dropped.length} images? from training and evaluation`).test(m)), JSON.stringify(d.warnings));
  const manifest = JSON.parse(readFileSync(join(d.run_dir, "manifest.json"), "utf8"));
  assert.ok(!manifest.items.some((it: { rel: string }) => it.rel === leak[0]), "the run's manifest is the audited one");
  const html = readFileSync(join(d.run_dir, "report.html"), "utf8");
  assert.match(html, /<section id="audit"><h2>Data audit<\/h2>/);
  assert.ok(html.includes(`<b>${dropped.length} image${dropped.length === 1 ? "" : "s"} dropped</b>`));
  assert.match(html, /src="data:image\/jpeg;base64,[A-Za-z0-9+/]{100,}/, "thumbnails are inlined");
  const uploads = artifactsOf(readJournal(d.run_dir)).map((a) => a.path);
  for (const f of ["audit/duplicates.csv", "audit/label_issues.csv", "audit/outliers.csv", "audit/dropped.csv", "audit/audit.json", "audit/thumbs.json"]) assert.ok(uploads.includes(f), `MLflow gets ${f}`);
});
