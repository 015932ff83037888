import { test } from "node:test";
import assert from "node:assert/strict";
import type { DuplicateFinding } from "../../src/audit/types";
import type { Manifest } from "../../src/data/manifest";
import { auditedManifest, chooseDrops } from "../../src/stages/audit-drop";

const item = (rel: string, split: "train" | "val" | "test", label = 0): Manifest["items"][number] => ({ rel, split, label, sha256: rel, width: 8, height: 8 });
const manifest = (items: Manifest["items"]): Manifest => ({ version: 1, classes: ["a", "b"], items, bad: [], skipped: [], counts: { train: {}, val: {}, test: {} } });
const pair = (a: number, b: number, kind: "exact" | "near" = "exact"): DuplicateFinding => ({ a, b, kind, similarity: kind === "exact" ? 1 : 0.97, signal: kind === "exact" ? "pixels" : "phash" });

const items = [item("t0", "train"), item("t1", "train"), item("t2", "train"), item("v0", "val"), item("s0", "test"), item("s1", "test", 1)];
// t0 = s0 (a leak, exact), t1 ~ v0 (a leak, near), v0 ~ s1 (val and test), t1 = t2 (copies within train)
const found = [pair(0, 4), pair(1, 3, "near"), pair(3, 5, "near"), pair(1, 2)];

test("leakage drops the held-out member of each pair across splits, never a train image", () => {
  const d = chooseDrops(items, found, { leakage: true, duplicates: false });
  assert.deepEqual(d.map((x) => [x.rel, x.reason, x.twin]), [["v0", "leakage", "t1"], ["s0", "leakage", "t0"]]);
});

test("duplicates keeps the first of each exact set within a split; near pairs within a split stay", () => {
  assert.deepEqual(chooseDrops(items, found, { leakage: false, duplicates: true }).map((x) => [x.rel, x.reason, x.twin]), [["t2", "duplicate", "t1"]]);
  assert.deepEqual(chooseDrops(items, [pair(0, 1, "near")], { leakage: true, duplicates: true }), []);
});

test("the audited manifest keeps each item's feature rows, so the extract entry needs no recomputing", () => {
  const m = manifest(items);
  const out = auditedManifest(m, chooseDrops(items, found, { leakage: true, duplicates: true }));
  assert.deepEqual(out.items.map((it) => [it.rel, it.row, it.trainRow]), [["t0", 0, 0], ["t1", 1, 1], ["s1", 5, undefined]]);
  assert.deepEqual(out.counts.test, { a: 0, b: 1 });
  assert.equal(out.skipped.length, 3);
  assert.match(out.skipped.find((s) => s.rel === "s0")!.reason, /dropped by the audit: a twin of t0 \(train\)/);
});
