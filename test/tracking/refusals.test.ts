/** The server's refusals, one line per cause (tracking/refusals.ts). */
import assert from "node:assert/strict";
import { test } from "node:test";
import { refusalLines } from "../../src/tracking/refusals";

test("refusals with one cause become one line naming a few of them; other causes keep their own", () => {
  const unserved = "the run's artifact location /srv/a is not served by the tracking server; start it with --artifacts-destination";
  const rejected = [
    ...["config.resolved.yaml", "manifest.json", "report.json", "summary.json", "report.html"].map((f) => `artifact:${f}: ${unserved}`),
    "params:seed: Changing param values is not allowed",
  ];
  assert.deepEqual(refusalLines(rejected), [
    `5 items (artifact:config.resolved.yaml, artifact:manifest.json, artifact:report.json, and 2 more): ${unserved}`,
    "params:seed: Changing param values is not allowed",
  ]);
  assert.deepEqual(refusalLines([]), []);
});
