import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { tempDir, writeTree } from "../helpers";

const BIN = join(resolve(__dirname, "../../.."), "bin/tlrun.js");

/** Runs the real CLI in `cwd`; each case below is a mistake users make, caught before any stage. Cases run side by side. */
function tlrun(args: string[], cwd: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = execFile(process.execPath, [BIN, ...args], { cwd, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } }, (_, stdout, stderr) =>
      done({ code: child.exitCode, stdout, stderr }));
  });
}

/** A pipeline (its own file, so cases can run together) whose `data.dir` is on line 3 (value at column 8) and `base.model` on line 5 (column 10). */
let written = 0;
function pipeline(root: string, dir: string, base = "model: mobilenet_v2", extra = ""): string {
  const file = join(root, `p${++written}.yaml`);
  writeFileSync(file, `name: x\ndata:\n  dir: ${dir}\nbase:\n  ${base}\n${extra}`);
  return file;
}

async function refuses(file: string, cwd: string, where: string, message: RegExp, hint: RegExp): Promise<void> {
  const r = await tlrun(["validate", file], cwd);
  assert.equal(r.code, 2, r.stdout + r.stderr);
  assert.match(r.stderr, new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:${where}: error: `));
  assert.match(r.stderr, message);
  assert.match(r.stderr, hint);
  assert.doesNotMatch(r.stderr, /\n\s+at /, "no stack trace");
}

async function accepts(file: string, cwd: string, why: string): Promise<void> {
  const r = await tlrun(["validate", file], cwd);
  assert.equal(r.code, 0, `${why}: ${r.stderr}`);
}

test("validate refuses a data.dir that is missing, located, unless a built-in dataset builds it", async (t) => {
  const root = tempDir(t);
  writeFileSync(join(root, "b.yaml"), "name: x\ndata:\n  dir: emoji\n  builtin: emoji-google\n");
  await Promise.all([
    refuses(pipeline(root, "nope"), root, "3:8", /data\.dir 'nope' does not exist \(resolved to .*nope\)/, /hint: paths are relative to the pipeline file/),
    accepts(join(root, "b.yaml"), root, "builtin: the folder is built on demand"),
  ]);
});

test("validate refuses a data folder without images, and says where images go", async (t) => {
  const root = tempDir(t);
  writeTree(root, { "empty/a/notes.txt": "", "loose/1.png": "", "loose/2.jpg": "" });
  await Promise.all([
    refuses(pipeline(root, "empty"), root, "3:8", /data\.dir 'empty' holds no images in class subfolders \(a\/ holds no images\)/, /hint: put each class's images in its own subfolder, e\.g\. empty\/cat\/\*\.png/),
    refuses(pipeline(root, "loose"), root, "3:8", /data\.dir 'loose' holds no images in class subfolders$/m, /hint: the images lie directly in loose; move each class's images into its own subfolder/),
  ]);
});

test("validate refuses a single class, counting only folders with images, in both layouts", async (t) => {
  const root = tempDir(t);
  writeTree(root, {
    "one/cat/1.png": "", "one/dog/.keep": "", "one/dog/deep/notes.txt": "",
    "pre/train/cat/1.png": "", "pre/train/dog/x.txt": "", "pre/val/cat/2.png": "",
    "pre2/train/cat/1.png": "", "pre2/val/dog/2.png": "",
    "mixed/train/cat/1.png": "", "mixed/dog/2.png": "",
    "nested/cat/a/b/1.png": "", "nested/dog/2.JPG": "",
  });
  await Promise.all([
    refuses(pipeline(root, "one"), root, "3:8", /data\.dir 'one' has one class with images, 'cat' \(dog\/ holds no images\); a classifier needs at least 2/, /hint: add a subfolder of images for each other class beside cat\//),
    refuses(pipeline(root, "pre"), root, "3:8", /data\.dir 'pre' has one class with images, 'cat' \(dog\/ holds no images\)/, /hint: add a subfolder/),
    accepts(pipeline(root, "pre2"), root, "a class with images in any split folder counts"),
    refuses(pipeline(root, "mixed"), root, "3:8", /data\.dir 'mixed' mixes split folders \(train\) with other folders \(dog\)/, /hint: use either class subfolders only, or only train\/, val\/ and test\/ folders/),
    accepts(pipeline(root, "nested"), root, "images in nested folders and upper-case extensions count"),
    refuses(pipeline(root, "nested\n  exclude_classes: [dog]"), root, "3:8", /has one class with images, 'cat' \(exclude_classes leaves out dog\/\)/, /or remove names from data\.exclude_classes/),
  ]);
});

test("validate refuses a base.weights file that does not exist, at the key's value", async (t) => {
  const root = tempDir(t);
  writeTree(root, { "d/cat/1.png": "", "d/dog/1.png": "", "folder.h5/x": "" });
  const hint = /hint: paths are relative to the pipeline file; write the path of a Keras \.h5 or \.keras file, or weights: imagenet/;
  await Promise.all([
    refuses(pipeline(root, "d", "model: resnet50\n  weights: missing.h5"), root, "6:12", /base\.weights 'missing\.h5' does not exist \(resolved to .*missing\.h5\)/, hint),
    refuses(pipeline(root, "d", "model: mobilenet_v2\n  weights: folder.h5"), root, "6:12", /base\.weights 'folder\.h5' is a folder, not a file/, hint),
  ]);
});

test("validate refuses an unknown base.model with the known names and the nearest", async (t) => {
  const root = tempDir(t);
  writeTree(root, { "d/cat/1.png": "", "d/dog/1.png": "" });
  await Promise.all([
    refuses(pipeline(root, "d", "model: mobilenetv2"), root, "5:10", /base\.model 'mobilenetv2' is not a known model, nor a tfjs model folder beside the pipeline file/, /hint: did you mean 'mobilenet_v2' or 'mobilenet'\? known names: mobilenet_v2, vgg16, .*efficientnet_b3/),
    refuses(pipeline(root, "d", "model: models/mine/model.json"), root, "5:10", /base\.model 'models\/mine\/model\.json' does not exist/, /hint: a tfjs model is a folder holding model\.json/),
  ]);
});

test("run and plan stop on the same mistakes before anything is written", async (t) => {
  const root = tempDir(t);
  const file = pipeline(root, "nope", "model: mobilenet_v2", "runtime: {runs_dir: runs}\n");
  for (const r of await Promise.all(["run", "plan"].map((command) => tlrun([command, file], root)))) {
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /p\d+\.yaml:3:8: error: data\.dir 'nope' does not exist/);
    assert.equal(r.stdout, "");
  }
  assert.equal(existsSync(join(root, "runs")), false, "no run record");
});
