import { test } from "node:test";
import assert from "node:assert/strict";
import { classCounts, confusionMatrix } from "../../src/evaluation/confusion";
import { evaluationWarnings } from "../../src/evaluation/warnings";

const classes = ["Normal", "Tuberculosis"];
const binary = { positive: 1, negative: 0 };

function warn(labels: number[], predicted: number[], recallFloor = 0.5, b: typeof binary | null = binary, balanced = false) {
  const m = confusionMatrix(labels, predicted, 2);
  return evaluationWarnings({ split: "test", classes, labels, predicted, perClass: [0, 1].map((c) => classCounts(m, c)), recallFloor, binary: b, balanced });
}
const repeat = (v: number, n: number): number[] => new Array<number>(n).fill(v);

test("a model calling every image Normal on a 90:10 split: collapse and low recall", () => {
  const w = warn([...repeat(0, 90), ...repeat(1, 10)], repeat(0, 100));
  assert.deepEqual(w.map((x) => x.kind), ["collapse", "low_recall"]);
  assert.equal(w[0]!.message, "The model predicted 'Normal' for 100% of the 100 test images, while only 90% of them are 'Normal', so it has collapsed onto one class: set train.class_weight: balanced or data.sampling: oversample, or evaluate.threshold: { target_sensitivity: 0.9 }.");
  assert.equal(w[1]!.message, "Recall of 'Tuberculosis' on the test split is 0.00 (0 of 10 found), under evaluate.recall_floor 0.5: set train.class_weight: balanced or data.sampling: oversample, or evaluate.threshold: { target_sensitivity: 0.9 }.");
});

test("no collapse when the truth is as lopsided; no low recall with the floor at 0", () => {
  assert.deepEqual(warn([...repeat(0, 96), ...repeat(1, 4)], repeat(0, 100), 0).map((x) => x.kind), ["small_split"]);
  // 95 of 100 predicted Normal while 80 are: collapse
  const w = warn([...repeat(0, 80), ...repeat(1, 20)], [...repeat(0, 95), ...repeat(1, 5)], 0);
  assert.deepEqual(w.map((x) => x.kind), ["collapse"]);
  assert.deepEqual(warn([...repeat(0, 80), ...repeat(1, 20)], [...repeat(0, 94), ...repeat(1, 6)], 0), []);
});

test("a class with fewer than 10 images warns that its intervals are wide", () => {
  const w = warn([...repeat(0, 20), ...repeat(1, 9)], [...repeat(0, 20), ...repeat(1, 9)]);
  assert.deepEqual(w, [{ kind: "small_split", message: "The test split has only 9 'Tuberculosis' images, so its figures and intervals are wide: add 'Tuberculosis' images to the test split or raise data.split.test." }]);
});

test("low recall of the negative class suggests youden; a two-class argmax task, naming a positive class", () => {
  const labels = [...repeat(0, 20), ...repeat(1, 20)];
  const predicted = [...repeat(0, 5), ...repeat(1, 35)];
  assert.match(warn(labels, predicted).find((x) => x.kind === "low_recall")!.message, /'Normal' .* 0\.25 \(5 of 20 found\).*evaluate.threshold: youden\.$/);
  assert.match(warn(labels, predicted, 0.5, null).find((x) => x.kind === "low_recall")!.message, /oversample, or set evaluate.positive_class: Normal with evaluate.threshold: \{ target_sensitivity: 0.9 \}\.$/);
  assert.match(warn([...repeat(0, 90), ...repeat(1, 10)], repeat(0, 100), 0, null)[0]!.message, /evaluate.positive_class: Tuberculosis with/);
});

test("a multi-class task's warnings suggest no threshold", () => {
  const labels = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2];
  const predicted = labels.map((y) => (y === 2 ? 0 : y));
  const m = confusionMatrix(labels, predicted, 3);
  const w = evaluationWarnings({ split: "val", classes: ["a", "b", "c"], labels, predicted, perClass: [0, 1, 2].map((c) => classCounts(m, c)), recallFloor: 0.5, binary: null, balanced: false });
  assert.deepEqual(w, [{ kind: "low_recall", message: "Recall of 'c' on the val split is 0.00 (0 of 10 found), under evaluate.recall_floor 0.5: set train.class_weight: balanced or data.sampling: oversample." }]);
});

test("when training already balanced the classes, the warnings suggest what is left to try", () => {
  const w = warn([...repeat(0, 90), ...repeat(1, 10)], repeat(0, 100), 0.5, binary, true);
  for (const x of w) {
    assert.doesNotMatch(x.message, /set train.class_weight: balanced/);
    assert.match(x.message, /already weighted or resampled, so look at that class's training images/);
  }
});
