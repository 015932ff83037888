import { test } from "node:test";
import assert from "node:assert/strict";
import { formatRunEnd } from "../../src/report/terminal";
import type { RunSummary } from "../../src/runs/record";
import { binaryReport, multiReport } from "./fixtures";

const summary: RunSummary = {
  run_id: "20261205-210000-tb-abcd1234", run_dir: "/x/runs/20261205-210000-tb-abcd1234", name: "tb", status: "completed", backend: "native",
  started_at: "2026-12-05T21:00:00.000Z", seconds: 12.5, stages: [], metrics: { test_accuracy: 0.885 }, warnings: ["a pinned package is another version\nso the eager path runs"],
};

test("the binary end table has the operating point with intervals, every warning on its own 'warning:' line, and where the report is", () => {
  const out = formatRunEnd(binaryReport(), summary, { color: false, mlflowUrl: "http://127.0.0.1:5000/#/experiments/1/runs/ab" });
  assert.match(out, /^run 20261205-210000-tb-abcd1234 completed on native in 12\.5s$/m);
  assert.match(out, /^ {2}Tuberculosis\s+0\.556\s+0\.833\s+0\.879\s+0\.667\s+12$/m);
  assert.match(out, /operating point: Tuberculosis when p ≥ 0\.2314 \(sensitivity ≥ 0\.9 on validation\)/);
  assert.match(out, /test: sensitivity 0\.833 \(0\.793–0\.873\) · specificity 0\.879 \(0\.839–0\.919\) · PPV 0\.556 · NPV 0\.967/);
  assert.match(out, /val: {2}sensitivity 0\.917/);
  const warnings = out.split("\n").filter((l) => /only 12 images|pinned|eager path/.test(l));
  assert.equal(warnings.length, 3);
  for (const l of warnings) assert.match(l, /^warning: /);
  assert.match(out, /^report: \/x\/runs\/20261205-210000-tb-abcd1234\/report\.html$/m);
  assert.match(out, /^mlflow: http:\/\/127\.0\.0\.1:5000\/#\/experiments\/1\/runs\/ab$/m);
  assert.doesNotMatch(out, /[{}]/, "no JSON");
  assert.doesNotMatch(out, /\x1b\[/, "no colour when asked for none");
});

test("a 10-class run fits in 25 lines; 30 classes show the 12 with the lowest recall; colour only when asked", () => {
  const ten = formatRunEnd(multiReport(10), summary, { color: true });
  assert.ok(ten.trimEnd().split("\n").length <= 25, ten);
  assert.match(ten, /\x1b\[33mevaluated with the head's weights/);
  assert.doesNotMatch(formatRunEnd({ ...multiReport(10), weights: "head" }, summary, { color: false }), /evaluated with the head's weights/, "a head-only pipeline kept nothing back");
  assert.doesNotMatch(ten, /operating point/);
  const r = multiReport(30);
  r.per_class.class_29!.recall = 0.1;
  const thirty = formatRunEnd(r, { ...summary, warnings: [] }, { color: false });
  assert.ok(thirty.trimEnd().split("\n").length <= 20, thirty);
  assert.match(thirty, /^ {2}class_29 /m);
  assert.match(thirty, /18 more classes in the report/);
});

test("a failed run without a report still says where its page is", () => {
  const out = formatRunEnd(undefined, { ...summary, status: "failed", warnings: [] }, { color: false });
  assert.match(out, /^run .* failed/);
  assert.match(out, /^report: .*report\.html$/m);
});
