import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join, resolve } from "node:path";
import { tempDir, writeTree } from "../helpers";

const ROOT = resolve(__dirname, "../../..");
const BIN = join(ROOT, "bin/tlrun.js");

function tlrun(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: "utf8", env: { ...process.env, ...env } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test("tlrun models --json lists the architectures with their ImageNet weights", () => {
  const r = tlrun(["models", "--json"]);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { architectures: Array<{ name: string; imagenet: { url: string } }> };
  assert.deepEqual(out.architectures.map((a) => a.name), [
    "vgg16", "vgg19", "mobilenet", "mobilenet_v2", "resnet50", "resnet101", "resnet152", "resnet50_v2", "resnet101_v2", "resnet152_v2",
    "densenet121", "attention_vgg16", "densenet169", "densenet201", "inception_v3", "xception", "inception_resnet_v2", "nasnet_mobile",
    "efficientnet_b0", "efficientnet_b1", "efficientnet_b2", "efficientnet_b3",
  ]);
  for (const a of out.architectures) {
    // EfficientNet's files live in Keras' other bucket
    const base = a.name.startsWith("efficientnet") ? "https://storage.googleapis.com/keras-applications/" : "https://storage.googleapis.com/tensorflow/keras-applications/";
    assert.ok(a.imagenet.url.startsWith(base), a.imagenet.url);
  }
});

test("tlrun models <name>: Keras' parameter counts, blocks, and what trains from a freeze point", () => {
  // Keras' model.count_params() for include_top=False (EfficientNet's count Normalization's 7 statistics)
  const totals: Record<string, number> = {
    vgg16: 14_714_688, resnet50: 23_587_712, mobilenet_v2: 2_257_984, densenet121: 7_037_504, mobilenet: 3_228_864,
    resnet50_v2: 23_564_800, densenet169: 12_642_880, inception_v3: 21_802_784, xception: 20_861_480,
    inception_resnet_v2: 54_336_736, nasnet_mobile: 4_269_716, efficientnet_b0: 4_049_571, efficientnet_b3: 10_783_535,
  };
  for (const [name, total] of Object.entries(totals)) {
    const r = tlrun(["models", name, "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { layers: Array<{ params: number }> };
    assert.equal(out.layers.reduce((n, l) => n + l.params, 0), total, name);
  }
  const r = tlrun(["models", "vgg16", "--freeze-at", "block5", "--json"]);
  const out = JSON.parse(r.stdout) as { freeze_at: number; layers: Array<{ name: string; block: string; trainable: boolean }> };
  assert.equal(out.freeze_at, 15);
  assert.deepEqual(out.layers.filter((l) => l.trainable).map((l) => l.name), ["block5_conv1", "block5_conv2", "block5_conv3"]);
  assert.equal(out.layers[15]!.block, "block5");
  const bad = tlrun(["models", "vgg16", "--freeze-at", "blok5"]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /did you mean 'block5'/);
});

test("tlrun models --freeze-at takes a layer name, an index, a block or a fraction of the depth", () => {
  const freezeAt = (name: string, at: string) => (JSON.parse(tlrun(["models", name, "--freeze-at", at, "--json"]).stdout) as { freeze_at: number; layers: Array<{ name: string }> });
  for (const at of ["block5", "block5_conv1", "15"]) assert.equal(freezeAt("vgg16", at).freeze_at, 15, at);
  const resnet = freezeAt("resnet50", "conv5_block3");
  assert.equal(resnet.layers[resnet.freeze_at]!.name, "conv5_block3_1_conv");
  const mobilenet = freezeAt("mobilenet_v2", "block_13");
  assert.equal(mobilenet.layers[mobilenet.freeze_at]!.name, "block_13_expand");
  assert.equal(freezeAt("vgg16", "0.75").freeze_at, 14); // floor(0.75 * 19 layers): block4_pool, so block 5 trains
  const bad = tlrun(["models", "resnet50", "--freeze-at", "conv5_blok3"]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /did you mean 'conv5_block3'/);
  assert.doesNotMatch(bad.stderr, /\n\s+at /);
});

test("an offline plan of tb-vgg16.yaml says the weights must be downloaded, and from where", (t) => {
  const root = tempDir(t);
  writeTree(root, { "xray/Normal/a.png": "", "xray/Tuberculosis/b.png": "" }); // listed, never decoded
  const data = `data.dir=${join(root, "xray")}`;
  const r = tlrun(["plan", "pipelines/tb-vgg16.yaml", "--set", data], { TLRUN_CACHE: join(root, "cache") });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /vgg16 weights are not cached; they must be downloaded from https:\/\/storage\.googleapis\.com\/tensorflow\/keras-applications\/vgg16\/vgg16_weights_tf_dim_ordering_tf_kernels_notop\.h5/);
  const typo = tlrun(["validate", "pipelines/tb-vgg16.yaml", "--set", data, "--set", "freeze.at=block5_conv"]);
  assert.equal(typo.code, 2);
  assert.match(typo.stderr + typo.stdout, /did you mean 'block5_conv1'/);
});
