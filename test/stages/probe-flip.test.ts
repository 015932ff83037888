import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { writeFileSync } from "node:fs";
import { loadConfig } from "../../src/config";
import { execute } from "../../src/executor/execute";
import { tempDir, tinyEmojiDataset } from "../helpers";
import { stripesDataset } from "../fixtures/synthetic-images";

/** A small pipeline at 128 px: one head epoch, no augmentation, evaluated on val. */
function pipeline(data: string, runs: string, tolerance: number): string {
  return `name: flip
seed: 7
strategy: { mode: auto, similar_tolerance: ${tolerance} }
data:
  dir: ${JSON.stringify(data)}
  split: { train: 0.6, val: 0.4, test: 0.0 }
base: { model: mobilenet_v2, input_size: [128, 128] }
head: { layers: [] }
augment: { feature_copies: 0 }
train: { head: { epochs: 1, batch_size: 8 } }
evaluate: { split: val }
runtime: { runs_dir: ${JSON.stringify(runs)} }
`;
}

async function decide(root: string, data: string, tolerance: number): Promise<Record<string, unknown>> {
  const file = join(root, `p-${tolerance}.yaml`);
  writeFileSync(file, pipeline(data, join(root, "runs"), tolerance));
  const summary = await execute(loadConfig(file), { renderer: "silent" });
  assert.equal(summary.status, "completed");
  return summary.strategy!;
}

/**
 * Real emoji against a texture task built to be unlike ImageNet (stripes told apart by their
 * period alone): the probe's curve moves the decision. At a tolerance of 0.08 the emoji count as
 * similar (a head on the top features) and the stripes do not (a head on block_6, the lowest
 * depth: low-level filters see a grating's period; the top features pool it away). Both are
 * small, so each head also reads every block below its cut.
 */
test("a dataset unlike ImageNet flips the decision: emoji similar, stripes different, at one tolerance", { skip: process.env.TLRUN_FAST ? "slow: TLRUN_FAST is set" : false, timeout: 5 * 60_000 }, async (t) => {
  const root = tempDir(t);
  // 60 images a class: the probe scores 24 val images a class, about 0.01 a step at 4 classes
  const emoji = tinyEmojiDataset(join(root, "emoji"), 60, ["flags", "food-drink", "smileys-emotion", "animals-nature"]);
  const stripes = await stripesDataset(join(root, "stripes"), 60, 1);
  const e = await decide(root, emoji, 0.08);
  const s = await decide(root, stripes, 0.08);
  assert.equal(e.similarity, "similar", String(e.reason));
  assert.equal(e.cut, "out_relu");
  assert.equal(s.similarity, "different", String(s.reason));
  assert.equal(s.cut, "block_6_project");
  assert.deepEqual([e.head_depths, s.head_depths], ["blocks", "blocks"], "36 training images a class is small: the head also reads every block below its cut");
  const accuracy = (r: Record<string, unknown>, layer: string) => (r.probe as Array<{ layer: string; accuracy: number }>).find((p) => p.layer === layer)!.accuracy;
  assert.ok(accuracy(s, "block_6_project") - accuracy(s, "out_relu") > 0.1, String(s.reason));
});
