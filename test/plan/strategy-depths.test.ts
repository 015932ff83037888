import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadConfig } from "../../src/config";
import { probeDepths, topBlock } from "../../src/plan/strategy-depths";
import { tempDir, tinyPipeline } from "../helpers";

test("the top block a short fine-tune trains: the last named block at or below the top probed depth", (t) => {
  const root = tempDir(t);
  const at = (model: string, depths = "[]"): string | undefined => {
    const file = join(root, `${model}.yaml`);
    writeFileSync(file, tinyPipeline(join(root, "data"), join(root, "runs")).replace("model: mobilenet_v2", `model: ${model}`) + `strategy: { mode: auto, depths: ${depths} }\n`);
    const loaded = loadConfig(file);
    return topBlock(loaded, probeDepths(loaded));
  };
  assert.equal(at("mobilenet_v2"), "block_16", "out_relu is in MobileNetV2's top, after block_16");
  assert.equal(at("mobilenet_v2", "[block_6_project, block_13_project]"), "block_13");
  assert.equal(at("vgg16"), "block5");
});
