import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { writeFileSync } from "node:fs";
import { loadConfig } from "../../src/config";
import { execute } from "../../src/executor/execute";
import { tempDir, tinyEmojiDataset } from "../helpers";
import { stripesDataset } from "../fixtures/synthetic-images";

/** A probe-only pipeline at 64 px: one head epoch, no augmentation, evaluated on val. */
function pipeline(data: string, runs: string, tolerance: number): string {
  return `name: flip
seed: 7
strategy: { mode: auto, similar_tolerance: ${tolerance} }
data:
  dir: ${JSON.stringify(data)}
  split: { train: 0.5, val: 0.5, test: 0.0 }
base: { model: mobilenet_v2, input_size: [64, 64] }
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
 * period alone): the probe's curve moves the decision. At a tolerance of 0.1 the emoji count as
 * similar (a head on the top features) and the stripes do not (a head on block_6, the lowest
 * depth: low-level filters see a grating's period; the top features pool it away).
 */
test("a dataset unlike ImageNet flips the decision: emoji similar, stripes different, at one tolerance", { timeout: 5 * 60_000 }, async (t) => {
  const root = tempDir(t);
  const emoji = tinyEmojiDataset(join(root, "emoji"), 30, ["flags", "food-drink", "smileys-emotion", "animals-nature"]);
  const stripes = await stripesDataset(join(root, "stripes"), 30, 1);
  const e = await decide(root, emoji, 0.1);
  const s = await decide(root, stripes, 0.1);
  assert.equal(e.similarity, "similar", String(e.reason));
  assert.equal(e.cut, "out_relu");
  assert.equal(s.similarity, "different", String(s.reason));
  assert.equal(s.cut, "block_6_project");
  const accuracy = (r: Record<string, unknown>, layer: string) => (r.probe as Array<{ layer: string; accuracy: number }>).find((p) => p.layer === layer)!.accuracy;
  assert.ok(accuracy(s, "block_6_project") - accuracy(s, "out_relu") > 0.15, String(s.reason));
});
