import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { join, resolve } from "node:path";
import { writeFileSync } from "node:fs";
import { buildManifest } from "../../src/data/manifest";
import { scanDataset } from "../../src/data/scan";
import { splitCounts } from "../../src/data/split-counts";
import { tempDir, tinyEmojiDataset, writeTree } from "../helpers";
import { compile } from "../../src/plan/compile";
import { defaultConfig } from "../plan/fixtures";

const BIN = join(resolve(__dirname, "../../.."), "bin/tlrun.js");

function tlrun(args: string[], cwd: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = execFile(process.execPath, [BIN, ...args], { cwd, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } }, (_, stdout, stderr) =>
      done({ code: child.exitCode, stdout, stderr }));
  });
}

/**
 * ChestX-ray14-shaped class folders: patient N's scans are `0000000N_00K.png`. Only names matter
 * to validate and plan (nothing is decoded), so the files hold no image.
 */
function xrayFolder(root: string, extra: Record<string, string> = {}): void {
  const files: Record<string, string> = { ...extra };
  for (let p = 1; p <= 40; p++)
    for (let k = 0; k < 1 + (p % 4); k++) files[`xrays/${p % 3 === 0 ? "Effusion" : "No Finding"}/${String(p).padStart(8, "0")}_${String(k).padStart(3, "0")}.png`] = "";
  writeTree(root, files);
}

/** A pipeline whose `data.split` mapping is on line 4, its value at column 10. */
function pipeline(root: string, name: string, split: string): string {
  const file = join(root, `${name}.yaml`);
  writeFileSync(file, `name: ${name}\ndata:\n  dir: xrays\n  split: ${split}\nbase:\n  model: mobilenet_v2\n`);
  return file;
}

test("validate refuses a bad group pattern, one that misses files, and both group settings: located, exit 2, no stack", async (t) => {
  const root = tempDir(t, "tlrun-group-split-");
  xrayFolder(root, { "xrays/No Finding/scan.png": "" });
  const cases: Array<[string, string, RegExp]> = [
    ["bad", "{ group_pattern: '^(\\d+_' }", /:4:\d+: error: data\.split\.group_pattern '\^\(\\d\+_' is not a valid regular expression: Unterminated group/],
    ["misses", "{ group_pattern: '^(\\d+)_' }", /:4:\d+: error: data\.split\.group_pattern '\^\(\\d\+\)_' finds no group in 1 of 101 images: No Finding\/scan\.png/],
    ["none", "{ group_pattern: '^patient(\\d+)' }", /:4:\d+: error: data\.split\.group_pattern '\^patient\(\\d\+\)' finds no group in any image/],
    ["both", "{ group_pattern: '^(\\d+)_', group_by: patient }", /:4:\d+: error: data\.split sets both group_by \('patient'\) and group_pattern/],
  ];
  await Promise.all(cases.map(async ([name, split, message]) => {
    const file = pipeline(root, name, split);
    const r = await tlrun(["validate", file], root);
    assert.equal(r.code, 2, `${name}: ${r.stdout}${r.stderr}`);
    assert.ok(r.stderr.startsWith(`${file}:4:`), `${name}: located: ${r.stderr}`);
    assert.match(r.stderr, message, name);
    assert.match(r.stderr, /hint: /, name);
    assert.doesNotMatch(r.stderr, /\n\s+at /, `${name}: no stack trace`);
  }));
});

test("plan shows the split's source, groups per split and the leak; --leaks-pattern counts it for a random split", async (t) => {
  const root = tempDir(t, "tlrun-group-split-");
  xrayFolder(root);
  const grouped = pipeline(root, "grouped", "{ group_pattern: '^(\\d+)_' }");
  const random = pipeline(root, "random", "{ train: 0.5, val: 0.1, test: 0.4 }");
  const [g, r, rj] = await Promise.all([tlrun(["plan", grouped], root), tlrun(["plan", random, "--leaks-pattern", "^(\\d+)_"], root), tlrun(["plan", random, "--json", "--leaks-pattern", "^(\\d+)_"], root)]);
  assert.equal(g.code, 0, g.stderr);
  assert.match(g.stdout, /split: seeded 70\/15\/15 by group \(group_pattern '\^\(\\d\+\)_'\), stratified by class\n/);
  const groups = /groups\s+(\d+)\s+(\d+)\s+(\d+)\n/.exec(g.stdout);
  assert.ok(groups, g.stdout);
  assert.equal(groups.slice(1).map(Number).reduce((a, b) => a + b), 40, "each of the 40 patients in one split");
  assert.match(g.stdout, /test images whose group is also in train: 0 \(groups from group_pattern/);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /split: seeded 50\/10\/40, stratified by class\n/);
  const leaked = JSON.parse(rj.stdout).groups.leaked_test_images as number;
  assert.ok(leaked > 10, `a random split of 2-4 scans per patient leaks: ${leaked}`);
  assert.match(r.stdout, new RegExp(`test images whose group is also in train: ${leaked} \\(groups from group_pattern '\\^\\(\\\\d\\+\\)_'; this split does not keep them together\\)`));
  const bad = await tlrun(["plan", random, "--leaks-pattern", "(("], root);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--leaks-pattern '\(\(' is not a valid regular expression/);
});

test("prepare's manifest records each image's group and agrees with plan's split", async (t) => {
  const root = tempDir(t, "tlrun-group-split-");
  const dir = tinyEmojiDataset(join(root, "d"), 24, ["flags", "people-body"]);
  const split = { train: 0.6, val: 0.2, test: 0.2, stratify: true, group_pattern: "^([0-9a-f]{4})", group_by: "" };
  const manifest = await buildManifest(scanDataset(dir, { excludeClasses: [] }), { seed: 5, split, maxPixels: 1e8, onBadImage: "fail" });
  assert.ok(manifest.items.every((i) => i.group && i.rel.split("/").pop()!.startsWith(i.group)));
  const splitOf = new Map<string, string>();
  for (const i of manifest.items) assert.equal(splitOf.get(i.group!) ?? i.split, i.split, `group ${i.group} in one split`), splitOf.set(i.group!, i.split);
  const counts = splitCounts(scanDataset(dir, { excludeClasses: [] }), { seed: 5, split });
  assert.deepEqual(counts.counts, manifest.counts);
  assert.equal(counts.groups?.leaked_test_images, 0);
  const plain = await buildManifest(scanDataset(dir, { excludeClasses: [] }), { seed: 5, split: { ...split, group_pattern: "" }, maxPixels: 1e8, onBadImage: "fail" });
  assert.ok(plain.items.every((i) => !("group" in i)), "no grouping: no group field, as before");
});

test("prepare's key names the grouping only when it is set, so ungrouped keys stay what they were", () => {
  const c = defaultConfig();
  const prepare = (): Record<string, unknown> => compile(c).stages.find((s) => s.name === "prepare")!.params;
  assert.deepEqual(prepare().split, { train: 0.7, val: 0.15, test: 0.15, stratify: true });
  c.data.split.group_pattern = "^(\\d+)_";
  assert.deepEqual(prepare().split, { train: 0.7, val: 0.15, test: 0.15, stratify: true, group_pattern: "^(\\d+)_" });
});

/** A HAM10000-shaped table: 30 lesions of 1-3 images, `lesion_id` empty on the rows in `blank`, an official split column when `official`. */
function hamTable(root: string, blank: string[] = [], official = false): void {
  const rows = ["image_id,dx,lesion_id" + (official ? ",set" : "")];
  const files: Record<string, string> = {};
  for (let l = 0; l < 30; l++)
    for (let k = 0; k <= l % 3; k++) {
      const id = `ISIC_${l}_${k}`;
      files[`images/${id}.jpg`] = "";
      rows.push(`${id},${l % 2 ? "mel" : "nv"},${blank.includes(id) ? "" : `HAM_${l}`}` + (official ? `,${k === 0 ? "test" : "train"}` : ""));
    }
  writeTree(root, { ...files, "meta.csv": rows.join("\n") + "\n" });
}

/** A pipeline over meta.csv whose data.split is on line 6. */
function tablePipeline(root: string, name: string, split: string, columns = "{ path_template: '{image_id}.jpg', label: dx }"): string {
  const file = join(root, `${name}.yaml`);
  writeFileSync(file, `name: ${name}\ndata:\n  dir: images\n  labels: meta.csv\n  columns: ${columns}\n  split: ${split}\nbase:\n  model: mobilenet_v2\n`);
  return file;
}

test("group_by on a labels table: empty cells, an unknown column and a missing table are located errors; plan shows the groups", async (t) => {
  const root = tempDir(t, "tlrun-group-split-");
  hamTable(root, ["ISIC_4_0", "ISIC_7_1"]);
  const empty = tablePipeline(root, "empty", "{ group_by: lesion_id }");
  const typo = tablePipeline(root, "typo", "{ group_by: lesion }");
  const none = join(root, "none.yaml");
  writeFileSync(none, "name: none\ndata:\n  dir: images\n  split: { group_by: lesion_id }\nbase:\n  model: mobilenet_v2\n");
  const [e, ty, n] = await Promise.all([empty, typo, none].map((f) => tlrun(["validate", f], root)));
  for (const [r, where, message] of [
    [e!, `${empty}:6:`, /data\.split\.group_by column 'lesion_id' is empty for 2 of 60 images: ISIC_4_0\.jpg, ISIC_7_1\.jpg/],
    [ty!, `${typo}:6:`, /data\.split\.group_by 'lesion' is not a column of meta\.csv; its other columns are image_id, lesion_id\. Did you mean 'lesion_id'\?/i],
    [n!, `${none}:4:`, /data\.split\.group_by names a column of the labels file \('lesion_id'\), but data\.labels is not set/],
  ] as const) {
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.ok(r.stderr.startsWith(where), `${where}: ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  }
  const fixed = join(root, "fixed");
  hamTable(fixed);
  const grouped = tablePipeline(fixed, "grouped", "{ group_by: lesion_id }");
  const p = await tlrun(["plan", grouped], fixed);
  assert.equal(p.code, 0, p.stderr);
  assert.match(p.stdout, /split: seeded 70\/15\/15 by group lesion_id, stratified by class\n/);
  assert.match(p.stdout, /groups\s+\d+\s+\d+\s+\d+\n\s+test images whose group is also in train: 0 \(groups from group_by lesion_id\)/);
});

test("an official split column wins over the ratios, and plan counts its leak", async (t) => {
  const root = tempDir(t, "tlrun-group-split-");
  hamTable(root, [], true);
  const file = tablePipeline(root, "official", "{ group_by: lesion_id }", "{ path_template: '{image_id}.jpg', label: dx, split: set }");
  const p = await tlrun(["plan", file, "--json"], root);
  assert.equal(p.code, 0, p.stderr);
  const json = JSON.parse(p.stdout);
  assert.equal(json.split_source, "from the labels file's split column (it wins over the ratios and data.split's grouping, whose groups count the leak below)");
  const text = await tlrun(["plan", file], root);
  assert.match(text.stdout, /test images whose group is also in train: 20 \(groups from group_by lesion_id; this split does not keep them together\)/, "group_by set, yet the file's split decided: plan must not imply the groups were kept together");
  // Lesions with 2 or 3 images put the first in test and the rest in train: 20 of the 30 leak.
  assert.equal(json.groups.leaked_test_images, 20);
  assert.deepEqual(json.groups.groups, { train: 20, val: 0, test: 30 });
});

test("plan --leaks-by a column the table lacks, or without a table: exit 2 with the reason", async (t) => {
  const root = tempDir(t, "tlrun-group-split-");
  hamTable(root);
  xrayFolder(root);
  const table = tablePipeline(root, "random", "{ train: 0.7, val: 0.15, test: 0.15 }");
  const folders = pipeline(root, "folders", "{ train: 0.7, val: 0.15, test: 0.15 }");
  const [typo, noTable, ok] = await Promise.all([tlrun(["plan", table, "--leaks-by", "lesion"], root), tlrun(["plan", folders, "--leaks-by", "patient"], root), tlrun(["plan", table, "--leaks-by", "lesion_id"], root)]);
  assert.equal(typo.code, 2);
  assert.match(typo.stderr, /cannot count the leak: 'lesion' is not a column of the labels file/);
  assert.equal(noTable.code, 2);
  assert.match(noTable.stderr, /'patient' is not a column of this dataset: it has no labels file/);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /test images whose group is also in train: \d+ \(groups from group_by lesion_id; this split does not keep them together\)/);
});
