import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { encodePng } from "../data/png-fixtures";
import { tempDir, writeTree } from "../helpers";

const BIN = join(resolve(__dirname, "../../.."), "bin/tlrun.js");
const PNG = encodePng({ width: 8, height: 8, colorType: 0, bitDepth: 8, samples: new Array(64).fill(90) });

function tlrun(args: string[], cwd: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = execFile(process.execPath, [BIN, ...args], { cwd, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } }, (_, stdout, stderr) =>
      done({ code: child.exitCode, stdout, stderr }));
  });
}

/** images/a.png .. images/f.png, a labels file `name` holding `body`, and a pipeline reading it with `columns` (its own YAML). */
let written = 0;
function setup(root: string, name: string, body: string, columns: string, extra = ""): string {
  writeTree(root, Object.fromEntries("abcdef".split("").map((n) => [`images/${n}.png`, PNG])));
  writeFileSync(join(root, name), body);
  const file = `p${++written}.yaml`;
  writeFileSync(join(root, file), `name: x\ndata:\n  dir: images\n  labels: ${name}\n  columns: ${columns}\n${extra}base:\n  model: mobilenet_v2\n`);
  return file;
}

/** A pipeline whose data section is `data` after `dir: images` (line 4 on). */
function yaml(root: string, data: string): string {
  const file = `p${++written}.yaml`;
  writeFileSync(join(root, file), `name: x\ndata:\n  dir: images\n${data}base:\n  model: mobilenet_v2\n`);
  return file;
}

const GOOD = "image_id,dx,lesion_id\na,cat,L1\nb,cat,L1\nc,dog,L2\nd,dog,L3\n";
const TEMPLATE = '{ path_template: "{image_id}.png", label: dx }';

async function refuses(root: string, file: string, expected: RegExp[]): Promise<string> {
  const r = await tlrun(["validate", file], root);
  assert.equal(r.code, 2, r.stdout + r.stderr);
  for (const e of expected) assert.match(r.stderr, e);
  assert.doesNotMatch(r.stderr, /\n\s+at /, "no stack trace");
  return r.stderr;
}

test("validate accepts a CSV, a TSV and a JSONL labels table, and plan counts its classes", async (t) => {
  const root = tempDir(t);
  const files = [
    setup(root, "l.csv", GOOD, TEMPLATE),
    setup(root, "l.tsv", "file\tdx\n./a.png\tcat\nb.png\tcat\nc.png\tdog\nd.png\tdog\n", "{ path: file, label: dx }"),
    setup(root, "l.jsonl", '{"image_id":"a","dx":"cat"}\n{"image_id":"b","dx":"cat"}\n{"image_id":"c","dx":"dog"}\n{"image_id":"d","dx":"dog"}\n', TEMPLATE),
  ];
  for (const f of files) {
    const r = await tlrun(["validate", f], root);
    assert.equal(r.code, 0, `${f}: ${r.stderr}`);
  }
  const plan = await tlrun(["plan", files[0]!], root);
  assert.equal(plan.code, 0, plan.stderr);
  assert.match(plan.stdout, /cat\s+\d+\s+\d+\s+\d+/);
  assert.match(plan.stdout, /labels from .*l\.csv/);
});

test("validate refuses each kind of bad row at its line in the labels file, with exit 2", async (t) => {
  const root = tempDir(t);
  const body = ["image_id,dx,split", "a,cat,train", "b,,train", "c,dog,tst", "a,dog,val", "d,dog,test", "d,dog,test", "zz,cat,train"].join("\n");
  const stderr = await refuses(root, setup(root, "labels.csv", body, '{ path_template: "{image_id}.png", label: dx, split: split }'), [
    /^labels\.csv:8:1: error: file zz\.png not found\n  hint: paths are relative to data\.dir .*or set data\.on_missing: skip/m,
    /^labels\.csv:3:1: error: empty label \(column dx\)$/m,
    /^labels\.csv:4:1: error: split 'tst' is not one of train, val, validation, test; did you mean 'test'\?$/m,
    /^labels\.csv:5:1: error: a\.png is listed twice with two labels: 'dog' here, 'cat' on line 2$/m,
    /^labels\.csv:7:1: error: d\.png is listed twice, here and on line 6, both 'dog': a duplicate row$/m,
  ]);
  assert.match(stderr, /5 problem\(s\) found/);
});

test("many missing files show five and a count; on_missing: skip accepts them", async (t) => {
  const root = tempDir(t);
  const body = GOOD + Array.from({ length: 12 }, (_, i) => `gone${i},dog,L9`).join("\n");
  const stderr = await refuses(root, setup(root, "labels.csv", body, TEMPLATE), [/labels\.csv:10:1: error: file gone4\.png not found/, /error: and 7 more of this kind in labels\.csv \(12 rows in all\)/]);
  assert.doesNotMatch(stderr, /gone5/);
  const skip = await tlrun(["validate", setup(root, "labels.csv", body, TEMPLATE, "  on_missing: skip\n")], root);
  assert.equal(skip.code, 0, skip.stderr);
});

test("validate refuses columns, templates and files that name nothing, located in the YAML", async (t) => {
  const root = tempDir(t);
  await Promise.all([
    refuses(root, setup(root, "labels.csv", GOOD, '{ path_template: "{imageid}.png", label: diagnosis }'), [
      /p\d+\.yaml:5:\d+: error: data\.columns\.path_template names 'imageid', which is not a column of labels\.csv\n  hint: the columns of labels\.csv are image_id, dx, lesion_id; did you mean 'image_id'\?/,
      /p\d+\.yaml:5:\d+: error: data\.columns\.label names 'diagnosis', which is not a column of labels\.csv/,
    ]),
    refuses(root, setup(root, "labels.csv", GOOD, '{ path_template: "{image_id.png", label: dx }'), [/data\.columns\.path_template '\{image_id\.png': the '\{' at character 1 is not closed/]),
    refuses(root, setup(root, "labels.csv", GOOD, '{ path: image_id, path_template: "{image_id}.png", label: dx }'), [/data\.columns needs either path or path_template, not both/]),
    refuses(root, setup(root, "labels.csv", GOOD, "{ label: dx }"), [/data\.columns needs path or path_template/]),
    refuses(root, setup(root, "one.csv", "image_id,dx\na,cat\nb,cat\n", TEMPLATE), [/p\d+\.yaml:4:\d+: error: one\.csv has one class with images, 'cat'; a classifier needs at least 2\n  hint: the classes are the values of the 'dx' column/]),
    refuses(root, yaml(root, "  labels: nope.csv\n  columns: { path: f, label: dx }\n"), [/:4:11: error: data\.labels 'nope\.csv' does not exist \(resolved to nope\.csv\)/]),
    refuses(root, yaml(root, "  labels: labels.csv\n"), [/:4:11: error: data\.labels needs data\.columns/]),
    refuses(root, yaml(root, "  columns: { path: f, label: dx }\n"), [/:4:3: error: data\.columns is set without data\.labels/]),
  ]);
});
