/**
 * Keras parity, the proof that tlrun's architectures are Keras-exact: TensorFlow (Python, from
 * PyPI, in a venv made on first use by scripts/python/setup-keras.mjs) builds each
 * keras.applications model with random weights and saves its .h5 files; tlrun loads them into its
 * own architecture through the .h5 reader and must reproduce Keras' output within 1e-4 relative.
 * Slow: skipped when TLRUN_FAST is set; TLRUN_PARITY=inception_v3,efficientnet_b0 runs only those.
 */
import { before, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { selectBackend } from "../../src/backend/select";
import { buildBase } from "../../src/models/build";
import { loadArtifacts, prepareBase } from "../../src/models/source";
import { layerNames } from "../../src/models/topology";
import { ARCHITECTURES } from "../../src/models/zoo";
import { tempDir } from "../helpers";
import { serveFiles } from "./serve";

const SLOW = { skip: process.env.TLRUN_FAST ? "slow: TLRUN_FAST is set" : false, timeout: 30 * 60_000 };
const ROOT = resolve(__dirname, "../../..");
/**
 * Each architecture, its cut and the input size it is compared at: 64 where that is allowed, Keras'
 * minimum otherwise. EfficientNetB1 … B3's sizes keep the even/odd pattern their default input
 * gives the stride-2 blocks (Keras' correct_pad depends on it), so their default topology is exact.
 */
const CASES: Array<[arch: string, cut: string, size: number]> = [
  ["resnet50", "conv5_block3_out", 64], ["vgg16", "block5_pool", 64], ["vgg19", "block5_pool", 64], ["mobilenet_v2", "out_relu", 64], ["densenet121", "relu", 64],
  ["inception_v3", "mixed10", 75], ["efficientnet_b0", "top_activation", 64],
  ["resnet101", "conv5_block3_out", 64], ["resnet152", "conv5_block3_out", 64], ["densenet169", "relu", 64], ["densenet201", "relu", 64],
  ["efficientnet_b1", "top_activation", 80], ["efficientnet_b2", "top_activation", 68], ["efficientnet_b3", "top_activation", 76],
  ["mobilenet", "conv_pw_13_relu", 64], ["xception", "block14_sepconv2_act", 71], ["inception_resnet_v2", "conv_7b_ac", 75],
  ["resnet50_v2", "post_relu", 64], ["resnet101_v2", "post_relu", 64], ["resnet152_v2", "post_relu", 64],
  ["nasnet_mobile", "activation_187", 64], // 64 and 224 give the stride-2 cells the same even/odd sizes
];
let python = "";
/** The architectures whose weights are also loaded from a URL (a local server). */
const URL_CHECKED = new Set(["mobilenet_v2", "inception_v3"]);

before(async () => {
  if (process.env.TLRUN_FAST) return;
  const r = spawnSync(process.execPath, [join(ROOT, "scripts/python/setup-keras.mjs")], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
  assert.equal(r.status, 0, "could not set up the Keras venv");
  python = r.stdout.trim();
  await selectBackend("auto");
});

interface KerasRun {
  dir: string;
  input: tf.Tensor;
  output: Float32Array;
  outputShape: number[];
  layers: string[];
}

function kerasModel(dir: string, arch: string, size: number, ...flags: string[]): KerasRun {
  const r = spawnSync(python, [join(ROOT, "scripts/python/keras_parity.py"), arch, String(size), dir, "1", ...flags], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  const meta = JSON.parse(readFileSync(join(dir, "meta.json"), "utf8")) as { input_shape: number[]; output_shape: number[]; layers: string[]; input_sensitivity: number };
  assert.ok(meta.input_sensitivity > 1e-2, `${arch}: Keras' output barely depends on its input (${meta.input_sensitivity}); a wrong early layer would go unnoticed`);
  const bin = (f: string): Float32Array => {
    const b = readFileSync(join(dir, f));
    return new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4);
  };
  return { dir, input: tf.tensor(bin("input.bin"), meta.input_shape), output: bin("output.bin"), outputShape: meta.output_shape, layers: meta.layers };
}

/** Max |tlrun - keras| over max |keras|: the error relative to the output's scale. */
async function relativeError(arch: string, weights: string, k: KerasRun, cut: string): Promise<number> {
  const a = loadArtifacts(arch, k.dir, weights);
  const size = k.input.shape[1]!;
  const model = await buildBase(a, cut, [size, size]);
  try {
    const y = model.predict(k.input) as tf.Tensor;
    assert.deepEqual(y.shape, k.outputShape);
    const got = await y.data();
    y.dispose();
    let maxDiff = 0;
    let scale = 0;
    for (let i = 0; i < got.length; i++) {
      maxDiff = Math.max(maxDiff, Math.abs(got[i]! - k.output[i]!));
      scale = Math.max(scale, Math.abs(k.output[i]!));
    }
    assert.ok(scale > 0, "Keras' output is all zeros; the comparison would prove nothing");
    return maxDiff / scale;
  } finally {
    model.dispose();
  }
}

for (const [arch, cut, size] of CASES.filter(([a]) => !process.env.TLRUN_PARITY || process.env.TLRUN_PARITY.split(",").includes(a))) {
  test(`${arch}: tlrun reproduces Keras from both .h5 layouts and the .keras archive within 1e-4`, SLOW, async (t) => {
    const dir = tempDir(t, `tlrun-parity-${arch}-`);
    process.env.TLRUN_CACHE = join(dir, "cache");
    const k = kerasModel(dir, arch, size);
    try {
      assert.deepEqual(layerNames(ARCHITECTURES[arch]!.topology()), k.layers, "tlrun's layers, in order, are Keras' layers");
      for (const file of ["weights.h5", "model.h5", "model.keras"]) {
        const err = await relativeError(arch, file, k, cut);
        t.diagnostic(`${arch} ${file}: max relative error ${err.toExponential(2)}`);
        assert.ok(err < 1e-4, `${arch} ${file}: max relative error ${err}`);
      }
      // the same file from a URL: downloaded into the cache, checked, converted, loaded. The
      // download path is the same for every architecture, and the conversion after it is the
      // one just checked: two architectures cover it, which takes about a quarter off the others
      if (!URL_CHECKED.has(arch)) return;
      const bytes = readFileSync(join(dir, "weights.h5"));
      const srv = await serveFiles(t, { "/w.h5": bytes });
      const url = `${srv.url("/w.h5")}#sha256=${createHash("sha256").update(bytes).digest("hex")}`;
      await prepareBase(arch, dir, url);
      assert.ok((await relativeError(arch, url, k, cut)) < 1e-4);
      assert.equal(srv.requests.length, 1);
    } finally {
      k.input.dispose();
      delete process.env.TLRUN_CACHE;
    }
  });
}

for (const [arch, cut, size] of CASES.filter(([a]) => ["inception_v3", "xception", "inception_resnet_v2"].includes(a) && (!process.env.TLRUN_PARITY || process.env.TLRUN_PARITY.split(",").includes(a)))) {
  test(`${arch}: a file whose unnamed layers count from 1, as Keras' official one does, loads in Keras' order`, SLOW, async (t) => {
    const dir = tempDir(t, `tlrun-parity-${arch}-from1-`);
    process.env.TLRUN_CACHE = join(dir, "cache");
    const k = kerasModel(dir, arch, size, "--names-from-1");
    try {
      assert.ok(k.layers.includes("conv2d_1") && !k.layers.includes("conv2d"), "Keras named the layers from 1");
      const err = await relativeError(arch, "weights.h5", k, cut);
      t.diagnostic(`${arch} weights.h5 (names from 1): max relative error ${err.toExponential(2)}`);
      assert.ok(err < 1e-4, `${arch}: max relative error ${err}`);
    } finally {
      k.input.dispose();
      delete process.env.TLRUN_CACHE;
    }
  });
}
