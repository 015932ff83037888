import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { selectBackend } from "../../src/backend/select";
import { loadModel, saveModel } from "../../src/models/io";
import { SeededDropout } from "../../src/models/seeded-dropout";

const masks = (layer: tf.layers.Layer, calls: number): number[][] =>
  Array.from({ length: calls }, () => tf.tidy(() => Array.from((layer.apply(tf.ones([64, 32]), { training: true }) as tf.Tensor).dataSync())));

test("SeededDropout draws a new mask on every training call, the same sequence for the same seed, and passes through at inference", async () => {
  await selectBackend("auto");
  const before = tf.memory().numTensors;
  const a = masks(new SeededDropout({ rate: 0.25, seed: 9 }), 3);
  const b = masks(new SeededDropout({ rate: 0.25, seed: 9 }), 3);
  const other = masks(new SeededDropout({ rate: 0.25, seed: 10 }), 1);
  assert.deepEqual(a, b, "the same seed repeats the run");
  assert.notDeepEqual(a[0], a[1], "each call has its own mask");
  assert.notDeepEqual(a[0], other[0], "another seed, other masks");
  for (const m of a) {
    assert.ok(m.every((v) => v === 0 || Math.abs(v - 1 / 0.75) < 1e-6), "kept units are scaled by 1/keep");
    const dropped = m.filter((v) => v === 0).length / m.length;
    assert.ok(Math.abs(dropped - 0.25) < 0.05, `dropped ${dropped}`);
  }
  // tfjs' own Dropout with a seed, for contrast: the same mask every call.
  const fixed = masks(tf.layers.dropout({ rate: 0.25, seed: 9 }), 2);
  assert.deepEqual(fixed[0], fixed[1]);
  const x = tf.randomNormal([4, 5]);
  const y = new SeededDropout({ rate: 0.5, seed: 1 }).apply(x, { training: false }) as tf.Tensor;
  assert.deepEqual(y.dataSync(), x.dataSync());
  tf.dispose([x, y]);
  assert.equal(tf.memory().numTensors, before);
});

test("a head with SeededDropout saves as a plain Dropout, loads anywhere, and loads back into tlrun as SeededDropout", async () => {
  await selectBackend("auto");
  const dir = mkdtempSync(join(tmpdir(), "tlrun-dropout-"));
  try {
    const model = tf.sequential({ layers: [tf.layers.dense({ units: 8, inputShape: [4] }), new SeededDropout({ rate: 0.3, seed: 42, name: "head_dropout" }), tf.layers.dense({ units: 2 })] });
    await saveModel(model, dir);
    const json = JSON.parse(readFileSync(join(dir, "model.json"), "utf8"));
    const saved = json.modelTopology.config.layers[1];
    assert.equal(saved.class_name, "Dropout");
    assert.equal(saved.config.rate, 0.3);
    assert.equal(saved.config.seed, 42);
    const plain = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: json.weightsManifest[0].weights, weightData: new Uint8Array(readFileSync(join(dir, "weights.bin"))).buffer }));
    assert.equal(plain.layers[1]!.getClassName(), "Dropout");
    assert.ok(!(plain.layers[1] instanceof SeededDropout), "tfjs reads it as its own Dropout");
    const back = await loadModel(dir);
    assert.ok(back.layers[1] instanceof SeededDropout, "tlrun reads it back as SeededDropout");
    const x = tf.randomNormal([3, 4], 0, 1, "float32", 2);
    const [p, q] = [model, back].map((m) => m.predict(x) as tf.Tensor);
    assert.deepEqual(q!.dataSync(), p!.dataSync(), "same inference");
    tf.dispose([x, p!, q!]);
    [model, plain, back].forEach((m) => m.dispose());
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
