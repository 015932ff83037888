import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import sharp from "sharp";
import { TlrunError } from "../../src/errors";
import { DATASET_MARKER, buildEmojiDataset, slugCategory } from "../../src/data/emoji";
import { scanDataset } from "../../src/data/scan";

const root = mkdtempSync(join(tmpdir(), "tlrun-emoji-"));
after(() => rmSync(root, { recursive: true, force: true }));

const CLASSES = ["activities", "animals-nature", "flags", "food-drink", "objects", "people-body", "smileys-emotion", "symbols", "travel-places"];

describe("emoji dataset recipe", () => {
  it("slugs category names", () => {
    assert.equal(slugCategory("Smileys & Emotion"), "smileys-emotion");
    assert.equal(slugCategory("People & Body"), "people-body");
    assert.equal(slugCategory("Travel & Places"), "travel-places");
  });

  for (const vendor of ["google", "twitter"] as const) {
    it(`builds the ${vendor} set: nine classes, Component left out, scannable`, async () => {
      const out = join(root, vendor);
      const r = await buildEmojiDataset({ vendor, out });
      console.log(`# ${vendor}: ${r.total} images ${JSON.stringify(r.classes)}`);
      assert.deepEqual(Object.keys(r.classes), CLASSES);
      assert.equal(r.total, Object.values(r.classes).reduce((a, b) => a + b, 0));
      assert.ok(r.total > 1800 && r.total < 2100, String(r.total));
      assert.ok(existsSync(join(out, DATASET_MARKER)));
      assert.ok(!readdirSync(root).some((n) => n.includes(".tmp-")), "no temp folder left behind");
      const scan = scanDataset(out, { excludeClasses: [] });
      assert.deepEqual(scan.classes, CLASSES);
      assert.equal(scan.items.length, r.total);
      assert.deepEqual(scan.skipped, [], "the marker file is hidden");
    });
  }

  it("returns early when the same recipe was already built", async () => {
    const out = join(root, "google");
    const marker = join(out, "smileys-emotion", "extra.png");
    writeFileSync(marker, "x");
    const r = await buildEmojiDataset({ vendor: "google", out });
    assert.ok(existsSync(marker), "an idempotent rerun does not rebuild");
    assert.equal(r.classes["smileys-emotion"], scanDataset(out, { excludeClasses: [] }).items.filter((i) => i.label === "smileys-emotion").length - 1);
  });

  it("rebuilds its own folder for another recipe, and refuses a folder it did not write", async () => {
    const out = join(root, "google");
    const r = await buildEmojiDataset({ vendor: "twitter", out });
    assert.equal(r.total, Object.values(r.classes).reduce((a, b) => a + b, 0));
    assert.ok(!existsSync(join(out, "smileys-emotion", "extra.png")));
    const foreign = join(root, "mine");
    mkdirSync(foreign);
    writeFileSync(join(foreign, "photo.jpg"), "x");
    await assert.rejects(buildEmojiDataset({ vendor: "google", out: foreign }), (e: unknown) => e instanceof TlrunError && /not written by 'tlrun dataset'/.test(e.message));
    assert.ok(existsSync(join(foreign, "photo.jpg")));
  });

  it("resizes when asked for another size (slow)", { skip: process.env.TLRUN_FAST ? "slow; TLRUN_FAST is set" : false }, async () => {
    const out = join(root, "small");
    const r = await buildEmojiDataset({ vendor: "google", out, size: 32 });
    const first = scanDataset(out, { excludeClasses: [] }).items[0]!;
    const meta = await sharp(first.abs).metadata();
    assert.deepEqual([meta.width, meta.height, r.total > 1800], [32, 32, true]);
  });
});
