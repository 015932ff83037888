import assert from "node:assert/strict";
import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import * as tf from "@tensorflow/tfjs";
import sharp from "sharp";
import { selectBackend } from "../../src/backend/select";
import type { Split } from "../../src/data/scan";
import { DUPLICATE_DEFAULTS, findDuplicates } from "../../src/audit/duplicates";
import { exactDuplicates } from "../../src/audit/exact-duplicates";
import { featurePairs } from "../../src/audit/feature-pairs";
import { imageSignatures } from "../../src/audit/signatures";
import { neighbourPairs } from "../../src/audit/neighbour-pairs";
import { emojiFile } from "../helpers";

const dir = mkdtempSync(join(tmpdir(), "audit-engine-dup-"));
after(() => rmSync(dir, { recursive: true, force: true }));
before(async () => void (await selectBackend("auto")));
const at = (name: string): string => join(dir, name);

describe("findDuplicates on real emoji", () => {
  it("finds exact copies within and across splits, and a re-encoded, resized copy across splits only", async () => {
    const src = (_category: string, f: string): string => emojiFile(f);
    const apple = src("food-drink", "1f34e.png");
    const cat = src("animals-nature", "1f408.png");
    copyFileSync(apple, at("apple-copy.png"));
    copyFileSync(cat, at("cat-copy.png"));
    await sharp(apple).flatten({ background: "#ffffff" }).resize(96, 96).jpeg({ quality: 70 }).toFile(at("apple-small.jpg"));
    const rows: Array<[string, Split]> = [
      [apple, "train"], // 0
      [at("apple-copy.png"), "test"], // 1: exact, across
      [cat, "train"], // 2
      [at("cat-copy.png"), "train"], // 3: exact, within train
      [at("apple-small.jpg"), "val"], // 4: near, across (train 0, test 1)
      [src("animals-nature", "1f418.png"), "test"], // 5: unrelated
      [src("travel-places", "1f680.png"), "val"], // 6: unrelated
    ];
    const sigs = await imageSignatures(rows.map((r) => r[0]));
    const items = rows.map(([, split]) => ({ split }));
    const none = { features: new Float32Array(rows.length), width: 1, from: 0, cols: 1 };
    const { findings } = findDuplicates(items, sigs, none, { ...DUPLICATE_DEFAULTS, featureMinCosine: 1 });
    const pairs = findings.map((f) => `${f.a}-${f.b} ${f.kind} ${f.signal}`);
    assert.deepEqual(pairs, ["0-1 exact pixels", "0-4 near phash", "1-4 near phash", "2-3 exact pixels"]);
    for (const f of findings.filter((f) => f.kind === "near")) assert.ok(f.similarity >= 1 - DUPLICATE_DEFAULTS.phashMaxDistance / 64 && f.similarity < 1);
  });
});

describe("exactDuplicates", () => {
  it("pairs every member of a large group with one twin per split, not every pair", () => {
    const splits: Split[] = ["train", "train", "val", "train", "test", "test", "val"];
    const sigs = splits.map((_, i) => ({ pixels: i === 6 ? "other" : "same", phash: [0, 0] as [number, number] }));
    const found = exactDuplicates(splits.map((split) => ({ split })), sigs).map((f) => `${f.a}-${f.b}`);
    // 0 (train) is the group's first; 2 is the first in val, 4 the first in test
    assert.deepEqual(found, ["0-1", "0-2", "0-3", "0-4", "0-5", "1-2", "1-4", "2-3", "2-4", "2-5", "3-4"]);
  });
});

describe("featurePairs", () => {
  it("keeps cross-split pairs above the cosine threshold, in blocks, without leaking tensors", () => {
    const d = 8;
    const rows = 40;
    const f = new Float32Array(rows * d);
    for (let r = 0; r < rows; r++) f[r * d + (r % d)] = 1 + r; // eight directions, so rows r and r+8 are collinear
    for (let r = 0; r < rows; r++) f[r * d + ((r + 1) % d)] = 0.01 * (r % 3);
    const splits: Split[] = Array.from({ length: rows }, (_, r) => (r < 8 ? "train" : r < 16 ? "val" : r < 24 ? "test" : "train"));
    const before = tf.memory().numTensors;
    const found = featurePairs(splits.map((split) => ({ split })), { features: f, width: d, from: 0, cols: d }, 0.999, { topK: 1, blockValues: 64 });
    assert.equal(tf.memory().numTensors, before);
    // each val and test row finds its collinear train row; each test row its val row
    const cross = found.filter((p) => splits[p.a] !== splits[p.b]);
    assert.equal(cross.length, found.length);
    assert.equal(found.length, 8 + 8 + 8);
    for (const p of found) assert.equal(p.a % d, p.b % d);
  });
});

describe("findDuplicates' confirm band", () => {
  it("keeps a pair a little beyond the hash threshold only when the features agree", () => {
    const items: Array<{ split: Split }> = [{ split: "train" }, { split: "test" }, { split: "train" }, { split: "val" }];
    // 0↔1 differ in 14 bits (beyond 10, within 18) with equal features; 2↔3 the same distance with orthogonal features
    const sigs = [0, 0x3fff, 0, 0x3fff].map((lo, i) => ({ pixels: `p${i}`, phash: [i >= 2 ? 0xf0f0f0f0 : 0, lo] as [number, number] }));
    const features = new Float32Array([1, 0, 1, 0, 1, 0, 0, 1]);
    const { findings } = findDuplicates(items, sigs, { features, width: 2, from: 0, cols: 2 }, DUPLICATE_DEFAULTS);
    assert.deepEqual(findings, [{ a: 0, b: 1, kind: "near", similarity: 1, signal: "features" }]);
  });
});

describe("findDuplicates' colour check", () => {
  it("does not call two flags of one layout in other colours the same picture, though their hashes match", async () => {
    const honduras = emojiFile("1f1ed-1f1f3.png");
    const sierraLeone = emojiFile("1f1f8-1f1f1.png");
    const sigs = await imageSignatures([honduras, sierraLeone]);
    const items: Array<{ split: Split }> = [{ split: "train" }, { split: "test" }];
    const none = { features: new Float32Array(2), width: 1, from: 0, cols: 1 };
    assert.deepEqual(findDuplicates(items, sigs, none, DUPLICATE_DEFAULTS).findings, []);
    const noColour = findDuplicates(items, sigs, none, { ...DUPLICATE_DEFAULTS, colourMaxDistance: 255 }).findings;
    assert.deepEqual(noColour, [], "the aligned thumbnails alone tell them apart too");
    const blind = findDuplicates(items, sigs, none, { ...DUPLICATE_DEFAULTS, colourMaxDistance: 255, alignedMaxError: 255 }).findings;
    assert.equal(blind.length, 1, "the luma hash alone takes them for one picture");
  });
});

describe("neighbourPairs", () => {
  it("takes each cross-split pair of the neighbour lists once, within the band only", () => {
    const items: Array<{ split: Split }> = [{ split: "train" }, { split: "test" }, { split: "train" }, { split: "val" }];
    // hashes: 0↔1 14 bits apart (across), 0↔2 14 bits (same split), 1↔3 and 2↔3 9 bits and 0↔3 5 bits (below the band), 1↔2 equal
    const sigs = [0, 0x3fff, 0x3fff, 0x1f].map((lo, i) => ({ pixels: `p${i}`, phash: [0, lo] as [number, number] }));
    // every image lists every other, so 0↔1 is listed twice
    const index = Int32Array.from([1, 2, 3, 0, 2, 3, 0, 1, 3, 0, 1, 2]);
    const nb = { k: 3, index, cosine: new Float32Array(12).fill(0.9) };
    const asked: string[] = [];
    const accept = (a: number, b: number) => (asked.push(`${a}-${b}`), { a, b, kind: "near" as const, similarity: 0.9, signal: "features" as const });
    const found = neighbourPairs(items, sigs, nb, { fromDistance: 10, toDistance: 22 }, accept, () => true, () => true);
    assert.deepEqual(found.map((f) => `${f.a}-${f.b}`), ["0-1"]);
    assert.deepEqual(asked, ["0-1"], "each pair is weighed once; same-split and below-band pairs not at all");
    assert.deepEqual(neighbourPairs(items, sigs, nb, { fromDistance: 10, toDistance: 22 }, accept, () => false, () => true), [], "keep vetoes");
  });
});
