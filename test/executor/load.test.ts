import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { ConfigError, formatProblem } from "../../src/errors";
import { loadPipeline, validatePipeline } from "../../src/executor/load";
import { baseShape, type ModelArtifacts } from "../../src/models/source";
import { ARCHITECTURES } from "../../src/models/zoo";
import { resolvePreprocessing } from "../../src/stages/extract";
import { defaultConfig } from "../plan/fixtures";
import { tempDir, writeTree } from "../helpers";

test("preprocessing auto resolves to each architecture's own mode", () => {
  const config = defaultConfig();
  for (const arch of Object.values(ARCHITECTURES)) {
    const shape = baseShape(arch.name, __dirname) as ModelArtifacts;
    assert.equal(resolvePreprocessing(config, shape), arch.preprocessing, arch.name);
  }
});

test("validate checks an explicit preprocessing against the architecture, located, unless overridden", (t) => {
  const root = tempDir(t);
  const file = join(root, "p.yaml");
  writeTree(root, { "d/cat/1.png": "", "d/dog/1.png": "" }); // listed, never decoded
  const check = (data: string) => {
    writeFileSync(file, `name: x\ndata:\n  dir: d\n${data}base: {model: resnet50, weights: imagenet}\nfreeze: {at: conv5}\ntrain: {fine_tune: {lr_multipliers: [{from: conv5_block1, factor: 0.1}, {from: conv5_block3, factor: 0.5}]}}\n`);
    return validatePipeline(file).problems.map(formatProblem);
  };
  assert.deepEqual(check(""), []);
  assert.deepEqual(check("  preprocessing: auto\n"), []);
  assert.deepEqual(check("  preprocessing: caffe\n"), []);
  assert.deepEqual(check("  preprocessing: tf\n  preprocessing_override: true\n"), []);
  const [problem, ...rest] = check("  preprocessing: tf\n");
  assert.deepEqual(rest, []);
  assert.match(problem!, /p\.yaml:4:18: error: data\.preprocessing is tf, but resnet50's weights expect caffe/);
  assert.match(problem!, /hint: write preprocessing: auto \(or caffe\); if your weights really were trained with tf, add preprocessing_override: true/);
  writeFileSync(file, "name: x\ndata: {dir: d, preprocessing: caffe}\n"); // the embedded mobilenet_v2 too
  assert.deepEqual(validatePipeline(file).problems.map((p) => p.message), ["data.preprocessing is caffe, but mobilenet_v2's weights expect tf (pixels scaled to [-1, 1]); features would be computed on the wrong scale"]);
});

test("validate checks the options that name classes against the data folder's classes, and skips them while the folder is absent", (t) => {
  const root = tempDir(t);
  const file = join(root, "p.yaml");
  writeTree(root, { "d/Normal/1.png": "", "d/Tuberculosis/1.png": "", "d/junk/1.png": "" });
  writeFileSync(file, "name: x\ndata:\n  dir: d\n  exclude_classes: [junk]\ntrain:\n  class_weight: { normal: 1 }\nevaluate:\n  positive_class: TB\n");
  assert.deepEqual(validatePipeline(file).problems.map(formatProblem), [
    `${file}:6:19: error: train.class_weight names 'normal', which is not a class of this task (classes: Normal, Tuberculosis)\n  hint: did you mean 'Normal'?`,
    `${file}:8:19: error: evaluate.positive_class is 'TB', which is not a class of this task (classes: Normal, Tuberculosis)\n  hint: write positive_class: Tuberculosis`,
  ]);
  assert.throws(() => loadPipeline(file), (err: unknown) => err instanceof ConfigError && err.exitCode === 2 && err.problems.length === 2);
  // a built-in dataset not built yet: nothing to check against; prepare checks once it is built
  writeFileSync(file, "name: x\ndata:\n  dir: emoji\n  builtin: emoji-google\ntrain:\n  class_weight: { normal: 1 }\n");
  assert.deepEqual(validatePipeline(file).problems, []);
});
