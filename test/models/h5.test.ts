import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { TlrunError } from "../../src/errors";
import { readKerasH5 } from "../../src/models/h5-read";
import { expectedWeights, mapWeights } from "../../src/models/weights/map";
import { tempDir } from "../helpers";
import { TINY_LAYERS, tinyArchitecture, writeKerasH5, type LayerSpec } from "./h5-fixtures";

const isError = (re: RegExp) => (e: Error) => e instanceof TlrunError && re.test(e.message);

test("both Keras layouts read the same layers in file order, also with split layer_names", async (t) => {
  const dir = tempDir(t);
  for (const [layout, split] of [["weights", false], ["model", false], ["weights", true]] as const) {
    const file = join(dir, `${layout}-${split}.h5`);
    await writeKerasH5(file, TINY_LAYERS, layout, split);
    const w = await readKerasH5(file);
    assert.equal(w.layout, layout);
    assert.deepEqual([...w.layers.keys()], ["input_1", "c1", "c2"]);
    assert.deepEqual(w.layers.get("input_1"), []);
    assert.deepEqual(w.layers.get("c1")!.map((x) => [x.name, x.shape]), [["c1/kernel:0", [3, 3, 3, 4]], ["c1/bias:0", [4]]]);
    assert.ok(Math.abs(w.layers.get("c1")![1]!.data[0]! - 0.108) < 1e-6, "bias follows the 108 kernel values");
  }
});

test("weights map by layer name onto the tfjs weight names and order", async (t) => {
  const file = join(tempDir(t), "w.h5");
  const shuffled: LayerSpec[] = [TINY_LAYERS[2]!, ["predictions", [["kernel", [2, 10]], ["bias", [10]]]], TINY_LAYERS[1]!];
  await writeKerasH5(file, shuffled);
  const arch = tinyArchitecture();
  const m = mapWeights(await readKerasH5(file), await expectedWeights(arch.topology()), arch.name);
  assert.deepEqual(m.weightSpecs.map((s) => [s.name, s.shape]), [["c1/kernel", [3, 3, 3, 4]], ["c1/bias", [4]], ["c2/kernel", [3, 3, 4, 2]], ["c2/bias", [2]]]);
  const data = new Float32Array(m.weightData);
  assert.equal(data.length, 108 + 4 + 72 + 2);
  // c2 was written first (values from 0), the dense top next, c1 last
  assert.ok(Math.abs(data[108 + 4]! - 0) < 1e-6 && Math.abs(data[0]! - (74 + 30) * 0.001) < 1e-6);
});

test("other names for the same layers (Keras' older files count unnamed layers from 1): matched in order, as Keras' load_weights does", async (t) => {
  const file = join(tempDir(t), "old.h5");
  await writeKerasH5(file, [["input_1", []], ["conv2d_1", TINY_LAYERS[1]![1]], ["conv2d_2", TINY_LAYERS[2]![1]]]);
  const arch = tinyArchitecture();
  const expected = await expectedWeights(arch.topology());
  const m = mapWeights(await readKerasH5(file), expected, arch.name);
  assert.deepEqual(m.weightSpecs.map((s) => s.name), ["c1/kernel", "c1/bias", "c2/kernel", "c2/bias"]);
  assert.ok(Math.abs(new Float32Array(m.weightData)[108 + 4]! - (108 + 4) * 0.001) < 1e-6, "c2 gets conv2d_2's values");
  // a layer more or a shape off: no pairing, and the names decide
  await writeKerasH5(file, [["conv2d_1", TINY_LAYERS[1]![1]], ["conv2d_2", [["kernel", [3, 3, 4, 8]], ["bias", [8]]]]]);
  const bad = await readKerasH5(file);
  assert.throws(() => mapWeights(bad, expected, arch.name), isError(/has layer 'conv2d_1'/));
});

test("weights of another shape or architecture: the file, the layer and both shapes", async (t) => {
  const dir = tempDir(t);
  const arch = tinyArchitecture();
  const expected = await expectedWeights(arch.topology());
  const cases: Array<[LayerSpec[], RegExp]> = [
    [[TINY_LAYERS[1]!, ["c2", [["kernel", [3, 3, 4, 8]], ["bias", [8]]]]], /bad0\.h5: layer 'c2' weight 'c2\/kernel:0' has shape \[3, 3, 4, 8\] in the file, tiny expects \[3, 3, 4, 2\]/],
    [[TINY_LAYERS[1]!], /bad1\.h5: no weights for layer 'c2' that tiny needs/],
    [[...TINY_LAYERS, ["c3", [["kernel", [3, 3, 2, 2]], ["bias", [2]]]]], /bad2\.h5: has layer 'c3' \(weight 'c3\/kernel:0' \[3, 3, 2, 2\]\) that tiny does not have/],
    [[TINY_LAYERS[1]!, ["c2", [["kernel", [3, 3, 4, 2]]]]], /bad3\.h5: layer 'c2' has 1 weights in the file, tiny expects 2/],
  ];
  for (const [i, [layers, re]] of cases.entries()) {
    const file = join(dir, `bad${i}.h5`);
    await writeKerasH5(file, layers);
    const h5 = await readKerasH5(file);
    assert.throws(() => mapWeights(h5, expected, arch.name), isError(re));
  }
});

test("a truncated file, an HTML page and a non-Keras HDF5 file are clear errors naming the file", async (t) => {
  const dir = tempDir(t);
  const file = join(dir, "cut.h5");
  await writeKerasH5(file, TINY_LAYERS);
  const size = readFileSync(file).byteLength;
  truncateSync(file, Math.floor(size / 2));
  await assert.rejects(readKerasH5(file), isError(/cut\.h5: truncated: the file has \d+ bytes but its header says \d+/));
  writeFileSync(join(dir, "page.h5"), "<!DOCTYPE html><html>Sign in</html>");
  await assert.rejects(readKerasH5(join(dir, "page.h5")), isError(/page\.h5: not an HDF5 file .*HTML page/));
  await assert.rejects(readKerasH5(join(dir, "none.h5")), isError(/weights file not found: .*none\.h5/));
});
