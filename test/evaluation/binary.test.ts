import { test } from "node:test";
import assert from "node:assert/strict";
import { binaryClasses } from "../../src/evaluation/binary";
import { EXIT, TlrunError } from "../../src/errors";

const cfg = { positive_class: "", negative_class: "", threshold: 0.5 as const };
const classes = ["Normal", "Tuberculosis"];

test("binary when positive_class or negative_class is set; argmax otherwise", () => {
  assert.equal(binaryClasses(classes, cfg), null);
  assert.equal(binaryClasses(["a", "b", "c"], cfg), null);
  assert.deepEqual(binaryClasses(classes, { ...cfg, positive_class: "Tuberculosis" }), { positive: 1, negative: 0 });
  assert.deepEqual(binaryClasses(classes, { ...cfg, negative_class: "Normal" }), { positive: 1, negative: 0 });
  assert.deepEqual(binaryClasses(classes, { ...cfg, negative_class: "Tuberculosis" }), { positive: 0, negative: 1 });
  assert.deepEqual(binaryClasses(classes, { ...cfg, positive_class: "Normal", negative_class: "Tuberculosis", threshold: "youden" }), { positive: 0, negative: 1 });
});

function throwsUsage(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof TlrunError);
    assert.equal(e.exitCode, EXIT.usage);
    assert.match(e.message, message);
    return true;
  });
}

test("misconfigurations throw with the classes found and a fix", () => {
  throwsUsage(() => binaryClasses(classes, { ...cfg, positive_class: "TB" }), /evaluate.positive_class 'TB' is not a class; the dataset's classes are 'Normal', 'Tuberculosis'\n  hint: write one of 'Normal' or 'Tuberculosis'/);
  throwsUsage(() => binaryClasses(classes, { ...cfg, negative_class: "normal" }), /evaluate.negative_class 'normal' is not a class/);
  throwsUsage(() => binaryClasses(["a", "b", "c"], { ...cfg, positive_class: "a" }), /evaluate.positive_class: a makes a binary report, but the task has 3 classes \('a', 'b', 'c'\)\n  hint: remove evaluate.positive_class/);
  throwsUsage(() => binaryClasses(classes, { ...cfg, positive_class: "Normal", negative_class: "Normal" }), /both 'Normal'/);
  throwsUsage(() => binaryClasses(classes, { ...cfg, threshold: { target_sensitivity: 0.9 } }), /evaluate.threshold is set, but no positive class is named.*\n  hint: add evaluate.positive_class: Tuberculosis/);
  throwsUsage(() => binaryClasses(["a", "b", "c"], { ...cfg, threshold: "youden" }), /hint: remove evaluate.threshold/);
});
