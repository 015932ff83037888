import assert from "node:assert/strict";
import { test } from "node:test";
import { datalabAnswer, scoreAudit, tlrunAnswer } from "../../bench/audit-score";
import type { PlantedTruth } from "../../src/data/emoji-planted";

const truth: PlantedTruth = {
  recipe: { source: "s", version: "1", seed: 1, size: 128, recipe: 1 },
  images: 10,
  near: [{ original: "train/a/1.png", copy: "val/a/x.jpg", transforms: [] }, { original: "train/b/2.png", copy: "test/b/y.png", transforms: [] }],
  exact: [{ original: "val/a/3.png", copy: "train/a/z.png", across: true }, { original: "train/c/4.png", copy: "train/c/w.png", across: false }],
  flipped: [{ path: "train/a/5.png", label: "a", true_label: "b" }, { path: "train/c/6.png", label: "c", true_label: "a" }],
};

test("a planted pair counts in either order; everything else flagged is an other pair", () => {
  const s = scoreAudit(truth, {
    pairs: [{ paths: ["val/a/x.jpg", "train/a/1.png"] }, { paths: ["train/a/3.png", "train/a/z.png"] }, { paths: ["val/a/3.png", "train/a/z.png"] }, { paths: ["train/c/4.png", "train/c/w.png"] }],
    labelRanking: [],
  });
  assert.deepEqual(s.near, { planted: 2, found: 1, recall: 0.5 });
  assert.deepEqual(s.crossSplit, { planted: 3, found: 2, recall: 2 / 3 });
  assert.deepEqual(s.exactWithin, { planted: 1, found: 1, recall: 1 });
  assert.deepEqual(s.others.map((p) => p.paths), [["train/a/3.png", "train/a/z.png"]]);
  assert.equal(s.flagged, 4);
});

test("flipped labels are counted among the first 2F of the ranking only", () => {
  const ranking = ["train/a/5.png", "x", "y", "z", "train/c/6.png"];
  assert.equal(scoreAudit(truth, { pairs: [], labelRanking: ranking }).flippedInTop2F, 1);
  assert.equal(scoreAudit(truth, { pairs: [], labelRanking: ["x", "train/c/6.png", "train/a/5.png"] }).flippedInTop2F, 2);
});

test("tlrun's audit JSON and Datalab's runs read as answers", () => {
  const t = tlrunAnswer({ duplicates: [{ paths: ["a", "b"], similarity: 0.9, kind: "near" }], label_issues: [{ path: "c", score: 0.1 }, { path: "d", score: 0.2 }] });
  assert.deepEqual(t, { pairs: [{ paths: ["a", "b"], similarity: 0.9, kind: "near" }], labelRanking: ["c", "d"] });
  const d = datalabAnswer({ near_duplicate_pairs: [[0, 2]], label_rank: [{ index: 1, flagged: true }, { index: 2, flagged: false }, { index: 0, flagged: true }] }, ["p0", "p1", "p2"]);
  assert.deepEqual(d, { pairs: [{ paths: ["p0", "p2"] }], labelRanking: ["p1", "p0"] }, "only the examples Datalab flags are its label issues");
});
