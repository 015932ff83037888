import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import * as tf from "@tensorflow/tfjs";
import { selectBackend } from "../../src/backend/select";
import type { Split } from "../../src/data/scan";
import { finderCost } from "../../src/audit/finder-cost";
import { AUDIT_DEFAULTS, auditFindings, searchRows } from "../../src/audit/findings";
import type { ImageSignature } from "../../src/audit/types";
import { Rng } from "../../src/util/rng";

before(async () => void (await selectBackend("auto")));

describe("finderCost", () => {
  it("prices every finder the audit runs, from a sample, without leaving tensors behind", () => {
    const n = 600;
    const d = 32;
    const rng = new Rng(5);
    const features = Float32Array.from({ length: n * d }, () => rng.next());
    const splits: Split[] = ["train", "train", "train", "val", "test"];
    const items = Array.from({ length: n }, (_, i) => ({ rel: `${i}.png`, split: splits[i % 5]!, label: i % 3 }));
    // one picture drawn ten times over: hashes a few bits apart, so both pair searches have work
    const signatures: ImageSignature[] = items.map((_, i) => ({ pixels: `p${i}`, phash: [(0xf0f0f0f0 ^ (1 << (i % 23))) >>> 0, (i % 60) * 2654435761 >>> 0] }));
    const sample = Int32Array.from(rng.shuffle(items.map((_, i) => i)).slice(0, 150));
    const before = tf.memory().numTensors;
    const priced = finderCost({ items, classes: 3, features, dim: d, search: searchRows({ features, dim: d, seed: 1 }), sample, signatures: Array.from(sample, (i) => signatures[i]!) }, AUDIT_DEFAULTS);
    assert.equal(tf.memory().numTensors, before);
    const found = auditFindings({ items, classes: ["a", "b", "c"], features: features.slice(), dim: d, signatures, seed: 1 });
    assert.deepEqual(Object.keys(priced).sort(), Object.keys(found.seconds).sort(), "a finder the estimate leaves out is time the ETA never shows");
    for (const [name, s] of Object.entries(priced)) assert.ok(Number.isFinite(s) && s >= 0, `${name}: ${s}`);
  });
});
