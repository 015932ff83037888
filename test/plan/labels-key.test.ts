import { test } from "node:test";
import assert from "node:assert/strict";
import { utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadPipeline } from "../../src/executor/load";
import { compile } from "../../src/plan/compile";
import { resolve } from "../../src/plan/resolve";
import { encodePng } from "../data/png-fixtures";
import { defaultConfig } from "./fixtures";
import { tempDir, writeTree } from "../helpers";

const PNG = encodePng({ width: 8, height: 8, colorType: 0, bitDepth: 8, samples: new Array(64).fill(90) });

function keys(file: string): Record<string, string | undefined> {
  return Object.fromEntries(resolve(loadPipeline(file)).stages.map((s) => [s.name, s.key]));
}

test("prepare's key follows the labels file's content: a changed label renews it, an unchanged file keeps it", (t) => {
  const root = tempDir(t);
  // The labels file lives outside data.dir, so the folder's fingerprint cannot see it change.
  writeTree(root, Object.fromEntries("abcd".split("").map((n) => [`images/${n}.png`, PNG])));
  const labels = join(root, "labels.csv");
  writeFileSync(labels, "image_id,dx\na,cat\nb,cat\nc,dog\nd,dog\n");
  const file = join(root, "p.yaml");
  writeFileSync(file, 'name: x\ndata:\n  dir: images\n  labels: labels.csv\n  columns: { path_template: "{image_id}.png", label: dx }\nbase:\n  model: mobilenet_v2\n');
  const before = keys(file);
  assert.ok(before.prepare);

  utimesSync(labels, new Date(), new Date(Date.now() + 5000)); // touched, same content
  assert.deepEqual(keys(file), before);

  const stamp = new Date(Date.now() + 5000);
  writeFileSync(labels, "image_id,dx\na,cat\nb,dog\nc,dog\nd,dog\n"); // one label edited, same size
  utimesSync(labels, stamp, stamp);
  const after = keys(file);
  assert.notEqual(after.prepare, before.prepare);
  assert.equal(after.weights, before.weights);
  // Later stages are keyed on prepare's output digest (manifestHash), which holds every item's label.
});

test("a config without data.labels compiles prepare's params as before, so class-folder keys do not move", () => {
  const prepare = compile(defaultConfig()).stages.find((s) => s.name === "prepare")!;
  assert.deepEqual(Object.keys(prepare.params).sort(), ["exclude_classes", "max_pixels", "on_bad_image", "seed", "split"]);
});
