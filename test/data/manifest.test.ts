import assert from "node:assert/strict";
import { cpSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import sharp from "sharp";
import { TlrunError } from "../../src/errors";
import { buildManifest, manifestHash, type ManifestOptions } from "../../src/data/manifest";
import { scanDataset } from "../../src/data/scan";
import { splitSizes } from "../../src/data/split";

const roots: string[] = [];
after(() => roots.forEach((r) => rmSync(r, { recursive: true, force: true })));
const temp = (): string => {
  const d = mkdtempSync(join(tmpdir(), "tlrun-manifest-"));
  roots.push(d);
  return d;
};

/** Write one small distinct PNG per path, in the given order (creation order must not matter). */
async function images(root: string, rels: string[]): Promise<void> {
  for (const rel of rels) {
    const n = Number(rel.replace(/\D/g, "")) || rel.length;
    const buf = await sharp({ create: { width: 6, height: 4, channels: 3, background: { r: n % 256, g: (n * 7) % 256, b: rel.length } } }).png().toBuffer();
    mkdirSync(join(root, rel, ".."), { recursive: true });
    writeFileSync(join(root, rel), buf);
  }
}

const opts = (seed: number, extra: Partial<ManifestOptions> = {}): ManifestOptions => ({
  seed, split: { train: 0.7, val: 0.15, test: 0.15, stratify: true }, maxPixels: 1e6, onBadImage: "skip", ...extra,
});
const build = (root: string, o: ManifestOptions) => buildManifest(scanDataset(root, { excludeClasses: [] }), o);

describe("buildManifest", () => {
  const rels = ["a", "b", "c"].flatMap((c, k) => Array.from({ length: 10 + k * 5 }, (_, i) => `${c}/img${k * 100 + i}.png`));

  it("splits the same way for the same seed, whatever order the files were created in", async () => {
    const one = temp();
    const two = temp();
    await images(one, rels);
    await images(two, [...rels].reverse());
    const m1 = await build(one, opts(7));
    const m2 = await build(two, opts(7));
    assert.equal(manifestHash(m1), manifestHash(m2));
    assert.deepEqual(m1, m2);
    assert.notEqual(manifestHash(await build(one, opts(8))), manifestHash(m1));
  });

  it("does not depend on where the folder lives, and stores no absolute paths", async () => {
    const one = temp();
    await images(one, rels);
    const moved = join(temp(), "elsewhere");
    cpSync(one, moved, { recursive: true });
    const m = await build(one, opts(1));
    assert.equal(manifestHash(m), manifestHash(await build(moved, opts(1))));
    assert.ok(!JSON.stringify(m).includes(one));
  });

  it("stratifies: every class of 3+ images gets val and test, and counts add up", async () => {
    const root = temp();
    await images(root, [...rels, "tiny/t1.png", "tiny/t2.png", "tiny/t3.png"]);
    const m = await build(root, opts(3));
    assert.deepEqual(m.classes, ["a", "b", "c", "tiny"]);
    for (const cls of m.classes) {
      assert.ok(m.counts.val[cls]! >= 1 && m.counts.test[cls]! >= 1 && m.counts.train[cls]! >= 1, cls);
    }
    assert.deepEqual([m.counts.train.a, m.counts.val.a, m.counts.test.a], [6, 2, 2]);
    const total = Object.values(m.counts).reduce((s, byClass) => s + Object.values(byClass).reduce((a, b) => a + b, 0), 0);
    assert.equal(total, m.items.length);
    assert.deepEqual(splitSizes(10, opts(0).split), { val: 2, test: 2 });
    assert.deepEqual(splitSizes(3, opts(0).split), { val: 1, test: 1 });
    assert.deepEqual(splitSizes(2, opts(0).split), { val: 0, test: 0 });
  });

  it("keeps the folders of a presplit layout and ignores the ratios", async () => {
    const root = temp();
    await images(root, ["train/x/1.png", "train/y/2.png", "val/x/3.png", "test/y/4.png"]);
    const m = await build(root, opts(1));
    assert.deepEqual(m.items.map((i) => [i.rel, m.classes[i.label], i.split]), [
      ["test/y/4.png", "y", "test"], ["train/x/1.png", "x", "train"], ["train/y/2.png", "y", "train"], ["val/x/3.png", "x", "val"],
    ]);
    assert.deepEqual(m.counts, { train: { x: 1, y: 1 }, val: { x: 1, y: 0 }, test: { x: 0, y: 1 } });
  });

  it("records bad images with on_bad_image: skip, and throws a TlrunError with fail", async () => {
    const root = temp();
    await images(root, ["a/1.png", "a/2.png", "b/3.png"]);
    writeFileSync(join(root, "a/empty.png"), "");
    writeFileSync(join(root, "b/words.jpg"), "hello");
    writeFileSync(join(root, "b/notes.txt"), "hello");
    const m = await build(root, opts(1));
    assert.deepEqual(m.bad, [{ rel: "a/empty.png", reason: "zero bytes" }, { rel: "b/words.jpg", reason: "not an image" }]);
    assert.deepEqual(m.skipped.map((s) => s.rel), ["b/notes.txt"]);
    assert.equal(m.items.length, 3);
    assert.ok(m.items.every((i) => i.width === 6 && i.height === 4 && /^[0-9a-f]{64}$/.test(i.sha256)));
    await assert.rejects(build(root, opts(1, { onBadImage: "fail" })), (e: unknown) =>
      e instanceof TlrunError && /2 images/.test(e.message) && /a\/empty\.png: zero bytes/.test(e.message) && /on_bad_image: skip/.test(e.message));
  });

  it("drops a class whose images are all unreadable", async () => {
    const root = temp();
    await images(root, ["a/1.png", "a/2.png"]);
    mkdirSync(join(root, "b"));
    writeFileSync(join(root, "b/broken.png"), "nope");
    const m = await build(root, opts(1));
    assert.deepEqual(m.classes, ["a"]);
    assert.ok(m.skipped.some((s) => s.rel === "b" && /no readable images/.test(s.reason)));
  });
  it("reports its progress after every file: files done and the bytes read, bad files included", async () => {
    const root = temp();
    await images(root, rels);
    writeFileSync(join(root, "a", "broken.png"), "not a png");
    const seen: Array<[number, number]> = [];
    await build(root, opts(1, { onProgress: (files, bytes) => seen.push([files, bytes]) }));
    const scanned = scanDataset(root, { excludeClasses: [] }).items;
    const total = scanned.reduce((sum, it) => sum + statSync(it.abs).size, 0);
    assert.deepEqual(seen.map(([f]) => f), scanned.map((_, i) => i + 1));
    assert.equal(seen[seen.length - 1]![1], total);
    assert.ok(seen.every(([, b], i) => i === 0 || b >= seen[i - 1]![1]), "bytes only grow");
  });
});
