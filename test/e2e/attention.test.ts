/**
 * attention_vgg16 end to end through the real CLI, on a tiny dataset with generated (random)
 * VGG16 weights: the attention head trains on cached feature maps, fine-tunes with block 5, and
 * the run holds the attention-map figure; the saved model carries the trained attention layers.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import sharp from "sharp";
import { tempDir, tinyEmojiDataset, tinyPipeline } from "../helpers";
import { heInit, vgg16Layers, writeKerasH5 } from "../models/h5-fixtures";

const BIN = resolve(__dirname, "../../../bin/tlrun.js");

test("attention_vgg16 runs end to end and logs its attention maps as a PNG", { timeout: 10 * 60_000 }, async (t) => {
  const root = tempDir(t);
  const data = tinyEmojiDataset(join(root, "data"));
  await writeKerasH5(join(root, "vgg16-random.h5"), vgg16Layers(), "weights", false, heInit(3));
  const file = join(root, "p.yaml");
  const yaml = tinyPipeline(data, join(root, "runs"))
    .replace("model: mobilenet_v2", "model: attention_vgg16\n  weights: vgg16-random.h5\n  cut: block5_conv3")
    .replace("input_size: [32, 32]", "input_size: [64, 64]")
    .replace("at: block_16_expand", "at: block5_conv3");
  writeFileSync(file, yaml);
  const r = spawnSync(process.execPath, [BIN, file, "--json"], { cwd: root, encoding: "utf8", env: { ...process.env, CI: "true", TLRUN_CACHE: join(root, "cache") } });
  assert.equal(r.status, 0, r.stderr);
  const summary = JSON.parse(r.stdout) as { status: string; run_dir: string; metrics: Record<string, number> };
  assert.equal(summary.status, "completed");
  assert.ok(Number.isFinite(summary.metrics.test_accuracy));

  const png = join(summary.run_dir, "plots", "attention_maps.png");
  assert.ok(existsSync(png), "the run holds plots/attention_maps.png");
  const meta = await sharp(png).metadata();
  assert.equal(meta.format, "png");
  assert.equal(meta.width, 320, "image and attention overlay side by side");
  assert.ok(meta.height! > 160 * 3, "one row per class at least");

  // the extract stage cached whole 4x4x512 maps, and the attention layers trained in the head phase
  const model = JSON.parse(readFileSync(join(summary.run_dir, "model", "model.json"), "utf8")) as {
    weightsManifest: Array<{ weights: Array<{ name: string; shape: number[] }> }>;
  };
  const specs = model.weightsManifest[0]!.weights;
  const names = specs.map((w) => w.name);
  for (const n of ["attention_conv/kernel", "attention_score/kernel", "block5_conv3/kernel", "head_output/kernel"]) assert.ok(names.includes(n), n);
  const bin = readFileSync(join(summary.run_dir, "model", "weights.bin"));
  const all = new Float32Array(bin.buffer, bin.byteOffset, bin.byteLength / 4);
  let off = 0;
  for (const w of specs) {
    const n = w.shape.reduce((a, b) => a * b, 1);
    if (w.name === "attention_score/kernel") {
      const k = all.subarray(off, off + n);
      assert.ok(k.some((v) => v !== 0), "the score conv starts at zero; non-zero means the attention trained");
    }
    off += n;
  }
});
