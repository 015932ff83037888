import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { readLabelsFile } from "../../src/data/labels-file";
import { parsePathTemplate } from "../../src/data/path-template";
import { scanTable, type TableSpec } from "../../src/data/scan-table";
import { buildManifest } from "../../src/data/manifest";
import { splitCounts } from "../../src/data/split-counts";
import { ConfigError } from "../../src/errors";
import { tempDir, writeTree } from "../helpers";
import { encodePng } from "./png-fixtures";

const PNG = encodePng({ width: 8, height: 8, colorType: 0, bitDepth: 8, samples: new Array(64).fill(128) });

/** A flat image folder `img/` with a.png..f.png, and the spec of a table beside it. */
function fixture(root: string, file: string, body: string, named: Partial<TableSpec["columns"]>, more: Partial<TableSpec> = {}): TableSpec {
  const columns = { path: "", path_template: "", label: "", split: "", ...named };
  writeTree(root, Object.fromEntries("abcdef".split("").map((n) => [`img/${n}.png`, PNG])));
  writeFileSync(join(root, file), body);
  return { dir: join(root, "img"), file: join(root, file), shown: file, columns, onMissing: "error", excludeClasses: [], locate: () => undefined, ...more };
}

test("a CSV, a TSV and a JSONL table give the same scan: sorted classes, kept columns, seeded split", (t) => {
  const root = tempDir(t);
  const csv = fixture(root, "l.csv", "id,dx,lesion\nb,cat,L1\na,dog,L1\nc,cat,L2\nd,dog,L3\n", { path_template: "{id}.png", label: "dx" });
  const tsv = fixture(root, "l.tsv", "file\tdx\tlesion\nb.png\tcat\tL1\na.png\tdog\tL1\nc.png\tcat\tL2\nd.png\tdog\tL3\n", { path: "file", label: "dx" });
  const jsonl = fixture(root, "l.jsonl", ['{"id":"b","dx":"cat","lesion":"L1"}', '{"id":"a","dx":"dog","lesion":"L1"}', "", '{"id":"c","dx":"cat","lesion":"L2"}', '{"id":"d","dx":"dog","lesion":"L3"}'].join("\n"), { path_template: "{id}.png", label: "dx" });
  const scans = [csv, tsv, jsonl].map((s) => scanTable(s));
  for (const s of scans) {
    assert.deepEqual(s.problems, []);
    assert.equal(s.scan.layout, "table");
    assert.deepEqual(s.scan.classes, ["cat", "dog"]);
    assert.deepEqual(s.scan.items.map((i) => [i.rel, i.label, i.split, i.columns?.lesion]), [["a.png", "dog", undefined, "L1"], ["b.png", "cat", undefined, "L1"], ["c.png", "cat", undefined, "L2"], ["d.png", "dog", undefined, "L3"]]);
    assert.equal(s.scan.items[0]!.abs, join(root, "img", "a.png"));
  }
  assert.deepEqual(scans[0]!.scan.items[0]!.columns, { id: "a", lesion: "L1" }, "the template's columns are kept, the label column is not");
  assert.deepEqual(scans[1]!.scan.items[0]!.columns, { lesion: "L1" }, "the path column is not kept");
  const ratios = { train: 0.5, val: 0.25, test: 0.25, stratify: true };
  assert.deepEqual(splitCounts(scans[0]!.scan, { seed: 1, split: ratios }), splitCounts(scans[2]!.scan, { seed: 1, split: ratios }));
});

test("a split column sets each row's split, case-insensitive, and prepare's manifest keeps it", async (t) => {
  const root = tempDir(t);
  const spec = fixture(root, "l.csv", "id,dx,set\na,x,TRAIN\nb,y,train\nc,x,Validation\nd,y,val\ne,x,test\nf,y,Test\n", { path_template: "{id}.png", label: "dx", split: "set" });
  const { scan, problems } = scanTable(spec);
  assert.deepEqual(problems, []);
  const manifest = await buildManifest(scan, { seed: 3, split: { train: 0.7, val: 0.15, test: 0.15, stratify: true }, maxPixels: 1e8, onBadImage: "skip" });
  assert.deepEqual(manifest.items.map((i) => i.split), ["train", "train", "val", "val", "test", "test"]);
  assert.deepEqual(manifest.counts.val, { x: 1, y: 1 });
});

test("line numbers are a text editor's: header is line 1, blank lines count, a quoted value may span lines", (t) => {
  const root = tempDir(t);
  const plain = fixture(root, "p.csv", "\uFEFFid,dx\r\na,x\r\n\r\nb,y\r\n\nzz,x\n", { path_template: "{id}.png", label: "dx" });
  const quoted = fixture(root, "q.csv", 'id,dx,note\na,x,"two\nlines"\n\nb,y,"say ""hi"""\nzz,x,\n', { path_template: "{id}.png", label: "dx" });
  assert.deepEqual(readLabelsFile(plain.file, "p.csv").lines, [2, 4, 6]);
  assert.deepEqual(readLabelsFile(quoted.file, "q.csv").lines, [3, 5, 6], "a record's line is where it ends, as csv-parse counts");
  assert.deepEqual(readLabelsFile(quoted.file, "q.csv").rows[1], ["b", "y", 'say "hi"']);
  assert.equal(scanTable(plain).problems[0]!.location?.line, 6);
  assert.match(scanTable(quoted).problems[0]!.message, /file zz\.png not found/);
});

test("each kind of bad row is reported at its line, five of a kind and then a count", (t) => {
  const root = tempDir(t);
  const missing = Array.from({ length: 8 }, (_, i) => `m${i},x,train`);
  const spec = fixture(root, "l.csv", ["id,dx,split", "a,x,train", "b,,train", "c,y,tst", "a,y,val", "d,y,test", "d,y,test", "../e,x,train", ",x,train", ...missing].join("\n"), { path_template: "{id}.png", label: "dx", split: "split" });
  const lines = scanTable(spec).problems.map((p) => `${p.location ? `${p.location.line}: ` : ""}${p.message}`);
  assert.deepEqual(lines, [
    "10: file m0.png not found", "11: file m1.png not found", "12: file m2.png not found", "13: file m3.png not found", "14: file m4.png not found",
    "and 3 more of this kind in l.csv (8 rows in all)",
    "8: path '../e.png' leads outside data.dir",
    "9: empty path (column id)",
    "3: empty label (column dx)",
    "4: split 'tst' is not one of train, val, validation, test; did you mean 'test'?",
    "5: a.png is listed twice with two labels: 'y' here, 'x' on line 2",
    "7: d.png is listed twice, here and on line 6, both 'y': a duplicate row",
  ]);
});

test("on_missing: skip leaves missing files out and lists them with their line; exclude_classes applies", (t) => {
  const root = tempDir(t);
  const spec = fixture(root, "l.csv", "id,dx\na,x\ngone,x\nb,y\nc,z\nnever,z\n", { path_template: "{id}.png", label: "dx" }, { onMissing: "skip", excludeClasses: ["z"] });
  const { scan, problems, labels } = scanTable(spec);
  assert.deepEqual(problems, []);
  assert.deepEqual(labels, ["x", "y", "z"]);
  assert.deepEqual(scan.classes, ["x", "y"]);
  assert.deepEqual(scan.skipped, [
    { rel: "c.png", reason: "excluded by data.exclude_classes" },
    { rel: "gone.png", reason: "not found (l.csv:3; data.on_missing: skip)" },
    { rel: "never.png", reason: "excluded by data.exclude_classes" },
  ]);
  assert.deepEqual(scanTable({ ...spec, onMissing: "error" }).problems.map((p) => p.message), ["file gone.png not found"], "an excluded class's files need not be there");
});

test("columns that name nothing, and malformed templates, are refused with the header's columns", (t) => {
  const root = tempDir(t);
  const at = (p: string) => ({ file: "p.yaml", line: p.length, col: 1 });
  const spec = fixture(root, "l.csv", "image_id,dx\na,x\n", { path_template: "{imageid}.png", label: "diagnosis", split: "split" }, { locate: at });
  assert.deepEqual(scanTable(spec).problems.map((p) => [p.location?.line, p.message, p.hint]), [
    ["data.columns.path_template".length, "data.columns.path_template names 'imageid', which is not a column of l.csv", "the columns of l.csv are image_id, dx; did you mean 'image_id'?"],
    ["data.columns.label".length, "data.columns.label names 'diagnosis', which is not a column of l.csv", "the columns of l.csv are image_id, dx"],
    ["data.columns.split".length, "data.columns.split names 'split', which is not a column of l.csv", "the columns of l.csv are image_id, dx"],
  ]);
  for (const [template, why] of [["{image_id.png", /not closed/], ["x.png", /names no column/], ["{}.png", /names no column/], ["a}.png", /closes nothing/]] as const) {
    const p = parsePathTemplate(template);
    assert.ok("error" in p && why.test(p.error), template);
  }
  const ok = parsePathTemplate("{{raw}}/{a}_{b}.jpg");
  assert.ok(!("error" in ok));
  assert.equal(ok.render((f) => f.toUpperCase()), "{raw}/A_B.jpg");
});

test("a malformed CSV or JSONL line is a located error, not a stack trace", (t) => {
  const root = tempDir(t);
  writeFileSync(join(root, "bad.csv"), "id,dx\na,x\nb,y,extra\n");
  writeFileSync(join(root, "bad.jsonl"), '{"id":"a","dx":"x"}\n{"id": "b",\n');
  writeFileSync(join(root, "arr.jsonl"), '{"id":"a","dx":"x"}\n\n[1,2]\n');
  const located = (file: string): { line?: number; message: string } => {
    try {
      readLabelsFile(join(root, file), file);
    } catch (err) {
      assert.ok(err instanceof ConfigError);
      return { line: err.problems[0]!.location?.line, message: err.problems[0]!.message };
    }
    assert.fail(`${file} was accepted`);
  };
  assert.deepEqual(located("bad.csv").line, 3);
  assert.match(located("bad.csv").message, /^not valid CSV: /);
  assert.deepEqual(located("bad.jsonl").line, 2);
  assert.deepEqual(located("arr.jsonl"), { line: 3, message: "found an array, not a JSON object" });
});

test("100k rows parse and are checked in well under a second of CPU", (t) => {
  const root = tempDir(t);
  const rows = ["image_id,dx,lesion_id"];
  for (let i = 0; i < 100_000; i++) rows.push(`ISIC_${String(i).padStart(7, "0")},${["nv", "mel", "bkl"][i % 3]},HAM_${i >> 1}`);
  const spec = fixture(root, "big.csv", rows.join("\n"), { path_template: "{image_id}.jpg", label: "dx" }, { onMissing: "skip" });
  // CPU time, not wall time: the suite shares two cores with other processes.
  const cpuMs = (since: NodeJS.CpuUsage): number => { const u = process.cpuUsage(since); return (u.user + u.system) / 1000; };
  const started = process.cpuUsage();
  const table = readLabelsFile(spec.file, "big.csv");
  const parsed = cpuMs(started);
  const { scan } = scanTable(spec);
  const total = cpuMs(started);
  assert.equal(table.rows.length, 100_000);
  assert.equal(scan.skipped.length, 100_000);
  t.diagnostic(`100k rows: parsed in ${parsed.toFixed(0)} ms CPU, then checked in ${(total - parsed).toFixed(0)} ms CPU`);
  assert.ok(parsed < 500, `parse took ${parsed.toFixed(0)} ms CPU`);
  assert.ok(total < 1000, `parse and check took ${total.toFixed(0)} ms CPU`);
});
