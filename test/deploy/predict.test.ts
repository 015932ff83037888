import * as tf from "@tensorflow/tfjs";
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { selectBackend } from "../../src/backend/select";
import { batches } from "../../src/data/loader";
import { expandInputs, globRegExp } from "../../src/deploy/inputs";
import { readRun } from "../../src/deploy/load-run";
import { predictFiles } from "../../src/deploy/predict";
import { tempDir, tinyEmojiDataset } from "../helpers";
import { FIXTURE_SIZE, writeFixtureRun } from "./run-fixture";

const ROOT = join(__dirname, "..", "..", "..");
const BIN = join(ROOT, "bin/tlrun.js");

function tlrun(cwd: string, ...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, "predict", ...args], { cwd, encoding: "utf8" });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function parseCsv(text: string): Array<Record<string, string>> {
  const [head, ...lines] = text.trim().split("\n");
  const cols = head!.split(",");
  return lines.map((l) => Object.fromEntries(l.split(",").map((v, i) => [cols[i]!, v])));
}

/** Probabilities of `files` through `model`, decoded by the training loader with the fixture's options ("auto" on mobilenet_v2 is "tf"). */
async function reference(model: tf.LayersModel, files: string[]): Promise<Map<string, number[]>> {
  const out = new Map<string, number[]>();
  const opts = { size: FIXTURE_SIZE, colorMode: "rgb" as const, maxPixels: 1_000_000, interpolation: "bilinear" as const, preprocessing: "tf" as const, batchSize: 4 };
  for await (const b of batches(files.map((abs) => ({ abs })), opts)) {
    const p = tf.tidy(() => model.predict(tf.tensor4d(b.x, [b.n, ...FIXTURE_SIZE, 3])) as tf.Tensor);
    const rows = (await p.array()) as number[][];
    p.dispose();
    b.indices.forEach((i, r) => out.set(files[i]!, rows[r]!));
  }
  return out;
}

test("predict on unseen images: one CSV row per image, the model's probabilities on the training decoder; a corrupt file is skipped with exit 1", async (t) => {
  await selectBackend("auto");
  const root = tempDir(t, "tlrun-predict-");
  const classes = ["flags", "food-drink", "smileys-emotion"];
  const run = await writeFixtureRun(join(root, "runs"), "20260101-000000-fixture-aaaa0001", classes);
  const images = tinyEmojiDataset(join(root, "new"), 4, ["animals-nature", "travel-places"]);
  writeFileSync(join(images, "animals-nature", "broken.png"), Buffer.from("\x89PNG\r\n\x1a\nnot really"));
  const files = [...expandInputs([images])];
  assert.equal(files.length, 9);
  const good = files.filter((f) => !f.endsWith("broken.png"));
  const want = await reference(run.model, good);

  const r = tlrun(root, run.id, "new", "--csv");
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /skipped new\/animals-nature\/broken\.png: /);
  const rows = parseCsv(r.stdout);
  assert.deepEqual(Object.keys(rows[0]!), ["path", "p_flags", "p_food-drink", "p_smileys-emotion", "predicted"]);
  assert.equal(rows.length, 8);
  for (const row of rows) {
    const expected = want.get(join(root, row.path!))!;
    assert.ok(expected, `unexpected row ${row.path}`);
    classes.forEach((c, i) => assert.ok(Math.abs(Number(row[`p_${c}`]) - expected[i]!) < 1e-4, `${row.path} p_${c}: ${row[`p_${c}`]} vs ${expected[i]}`));
    assert.equal(row.predicted, classes[expected.indexOf(Math.max(...expected))]);
  }

  const clean = tlrun(root, run.id, join(images, "travel-places"), "--json", "--top-k", "2");
  assert.equal(clean.code, 0, clean.stderr);
  const json = clean.stdout.trim().split("\n").map((l) => JSON.parse(l));
  assert.equal(json.length, 4);
  for (const j of json) assert.equal(j.top_k.length, 2), assert.equal(j.top_k[0].class, j.predicted);
});

test("predict refuses what it cannot score: an empty folder, a failed run, --threshold on a multi-class run (exit 2)", async (t) => {
  const root = tempDir(t, "tlrun-predict-");
  const runs = join(root, "runs");
  await writeFixtureRun(runs, "20260101-000000-ok-aaaa0002", ["a", "b", "c"]);
  await writeFixtureRun(runs, "20260101-000000-failed-aaaa0003", ["a", "b", "c"], { status: "failed" });
  mkdirSync(join(root, "empty", "sub"), { recursive: true });
  writeFileSync(join(root, "empty", "notes.txt"), "no images here");
  tinyEmojiDataset(join(root, "imgs"), 1, ["flags"]);

  const empty = tlrun(root, "20260101-000000-ok-aaaa0002", "empty");
  assert.equal(empty.code, 2);
  assert.match(empty.stderr, /empty holds no image/);
  const failed = tlrun(root, "failed-aaaa0003", "imgs");
  assert.equal(failed.code, 2);
  assert.match(failed.stderr, /run 20260101-000000-failed-aaaa0003 is failed \(train-head: out of memory\); only a completed run/);
  const threshold = tlrun(root, "ok-aaaa0002", "imgs", "--threshold", "0.3");
  assert.equal(threshold.code, 2);
  assert.match(threshold.stderr, /--threshold applies to a two-class run; .* has 3 classes/);
  const missing = tlrun(root, "nope", "imgs");
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /no run 'nope'/);
  assert.doesNotMatch(empty.stderr + failed.stderr + threshold.stderr + missing.stderr, /\n\s+at /); // no stack trace
  const help = tlrun(root, "--help");
  assert.equal(help.code, 0);
  assert.match(help.stdout, /exit codes: 0 every image scored; 1 some files/);
});

test("a binary run's decision uses report.json's threshold on the positive class, and --threshold overrides it", async (t) => {
  await selectBackend("auto");
  const root = tempDir(t, "tlrun-predict-");
  // the positive class is the first: its probability is 1 - sigmoid
  const run = await writeFixtureRun(join(root, "runs"), "20260101-000000-bin-aaaa0004", ["tb", "normal"], { sigmoid: true, binary: { positive: "tb", threshold: 0.37 } });
  const images = tinyEmojiDataset(join(root, "imgs"), 6, ["flags", "smileys-emotion"]);
  const want = await reference(run.model, [...expandInputs([images])]);

  const r = tlrun(root, run.id, "imgs", "--csv");
  assert.equal(r.code, 0, r.stderr);
  const rows = parseCsv(r.stdout);
  assert.equal(rows.length, 12);
  assert.deepEqual(Object.keys(rows[0]!), ["path", "p_tb", "p_normal", "predicted", "threshold"]);
  for (const row of rows) {
    const sig = want.get(join(root, row.path!))![0]!;
    assert.ok(Math.abs(Number(row.p_normal) - sig) < 1e-4 && Math.abs(Number(row.p_tb) - (1 - sig)) < 1e-4, `${row.path}: ${row.p_tb},${row.p_normal} vs sigmoid ${sig}`);
    assert.equal(row.threshold, "0.37");
    assert.equal(row.predicted, 1 - sig >= 0.37 ? "tb" : "normal", "a binary run predicts at its threshold, not by argmax");
  }
  const all = parseCsv(tlrun(root, run.id, "imgs", "--csv", "--threshold", "0").stdout);
  assert.ok(all.every((row) => row.predicted === "tb" && row.threshold === "0"));
});

test("globs: * stays in a folder, ** spans folders, [..] and ? match one character", () => {
  assert.ok(globRegExp("/d/*.png").test("/d/a.png"));
  assert.ok(!globRegExp("/d/*.png").test("/d/x/a.png"));
  assert.ok(globRegExp("/d/**/*.png").test("/d/a.png"));
  assert.ok(globRegExp("/d/**/*.png").test("/d/x/y/a.png"));
  assert.ok(globRegExp("/d/im?.[pj]ng").test("/d/im1.png"));
  assert.ok(!globRegExp("/d/im?.[pj]ng").test("/d/im1.gif"));
  assert.ok(globRegExp("/d/a+b (1).png").test("/d/a+b (1).png"));
});

test("an exported folder (tfjs or onnx) predicts as its run does; a model card with another input size is refused (exit 2)", async (t) => {
  const root = tempDir(t, "tlrun-predict-");
  const run = await writeFixtureRun(join(root, "runs"), "20260101-000000-exp-aaaa0005", ["a", "b", "c"]);
  tinyEmojiDataset(join(root, "imgs"), 3, ["flags"]);
  const fromRun = parseCsv(tlrun(root, run.dir, "imgs", "--csv").stdout);
  for (const format of ["tfjs", "onnx"]) {
    const out = join(root, `export-${format}`);
    const ex = spawnSync(process.execPath, [BIN, "export", run.dir, "--format", format, "--out", out], { cwd: root, encoding: "utf8" });
    assert.equal(ex.status, 0, ex.stderr);
    const r = tlrun(root, `export-${format}`, "imgs", "--csv");
    assert.equal(r.code, 0, r.stderr);
    const rows = parseCsv(r.stdout);
    assert.equal(rows.length, fromRun.length);
    rows.forEach((row, i) => ["p_a", "p_b", "p_c"].forEach((c) => assert.ok(Math.abs(Number(row[c]) - Number(fromRun[i]![c])) < 1e-4, `${format} ${row.path} ${c}`)));
    const cardFile = join(out, "model-card.json");
    const card = JSON.parse(readFileSync(cardFile, "utf8"));
    writeFileSync(cardFile, JSON.stringify({ ...card, input: { ...card.input, height: 32 } }));
    const bad = tlrun(root, out, "imgs", "--csv");
    assert.equal(bad.code, 2, `${format}: ${bad.stderr}`);
    assert.equal(bad.stdout, ""); // no header before the refusal
  }
});

test("predictFiles leaks no tensors and streams rows in input order", async (t) => {
  await selectBackend("auto");
  const root = tempDir(t, "tlrun-predict-");
  const run = await writeFixtureRun(join(root, "runs"), "20260101-000000-leak-aaaa0006", ["a", "b", "c"]);
  const images = tinyEmojiDataset(join(root, "imgs"), 5, ["flags"]);
  const paths = [...expandInputs([images])];
  const once = async (): Promise<string[]> => {
    const seen: string[] = [];
    const r = await predictFiles(readRun(run.dir), paths, { batchSize: 2, onRow: (p) => seen.push(p.path), onSkip: () => assert.fail("nothing to skip") });
    assert.equal(r.scored, 5);
    return seen;
  };
  await once(); // the first call may set up kernels and caches
  const before = tf.memory().numTensors;
  assert.deepEqual(await once(), paths);
  assert.equal(tf.memory().numTensors, before);
});
