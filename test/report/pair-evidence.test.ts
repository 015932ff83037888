/**
 * A duplicate pair's number is named for the signal that produced it (src/stages/audit-output.ts):
 * the terminal and the report page said "similarity 0.983" for one hash bit in 64 between two
 * different clock faces.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { formatAudit } from "../../src/report/audit-terminal";
import { pairEvidence, type AuditRecord } from "../../src/stages/audit-output";

const pair = (kind: "exact" | "near", similarity: number): AuditRecord["duplicates"][number] => ({ paths: ["train/clock-1.png", "val/clock-2.png"], splits: ["train", "val"], similarity, kind });

test("each pair's evidence says which signal found it and what its number is", () => {
  const r = { duplicates: [pair("exact", 1), pair("near", 63 / 64), pair("near", 0.9127)], signals: ["pixels", "phash", "features"] } as Pick<AuditRecord, "duplicates" | "signals">;
  assert.equal(pairEvidence(r, 0), "exact: pixel-identical");
  assert.equal(pairEvidence(r, 1), "near: perceptual hash 63/64 bits alike, thumbnails alike");
  assert.equal(pairEvidence(r, 2), "near: hash close, feature cosine 0.913, thumbnails alike");
  assert.equal(pairEvidence({ duplicates: r.duplicates } as typeof r, 1), "near, score 0.984"); // an audit.json written before signals
});

test("the terminal summary lists pairs with their evidence, never a bare similarity", () => {
  const r = {
    duplicates: [pair("near", 63 / 64)], signals: ["phash"], label_issues: [], outliers: [], dropped: [],
  } as unknown as AuditRecord;
  const text = formatAudit(r, "runs/x/audit", false);
  assert.match(text, /train\/clock-1\.png \(train\) ~ val\/clock-2\.png \(val\)  near: perceptual hash 63\/64 bits alike/);
  assert.doesNotMatch(text, /similarity|0\.984/);
});
