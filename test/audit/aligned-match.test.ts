/**
 * The verification step on real emoji: a cropped, resized, re-encoded copy matches its original
 * closely once aligned, while look-alikes the hash confuses (two flags of one layout in other
 * colours, two round yellow faces) do not, at the default threshold. (Some look-alikes stay within it:
 * Chad and Romania, gendered variants of one person emoji, clock faces; docs/audit.md.)
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import sharp from "sharp";
import { alignedError, THUMB_SIDE } from "../../src/audit/aligned-match";
import { DUPLICATE_DEFAULTS } from "../../src/audit/duplicates";
import { imageSignatures } from "../../src/audit/signatures";
import { applyTransforms } from "../../src/data/emoji-planted";
import { emojiFile } from "../helpers";

const dir = mkdtempSync(join(tmpdir(), "audit-aligned-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const thumb = (s: { thumb?: string }): Uint8Array => Buffer.from(s.thumb!, "base64");

describe("alignedError", () => {
  it("matches a cropped, resized, JPEG copy and tells look-alikes apart", async () => {
    const original = join(dir, "orig.png");
    await sharp(emojiFile("1f929.png")).resize(128, 128, { kernel: "lanczos3" }).flatten({ background: "#ffffff" }).png().toFile(original);
    const copy = join(dir, "copy.jpg");
    writeFileSync(copy, await applyTransforms(await sharp(original).png().toBuffer(), 128, [
      { kind: "crop", fraction: 0.06, left: 0.8, top: 0.2 }, { kind: "resize", scale: 0.7 }, { kind: "jpeg", quality: 65 },
    ]));
    const pairs = [
      [original, copy],
      [emojiFile("1f1ed-1f1f3.png"), emojiFile("1f1f8-1f1f1.png")], // Honduras, Sierra Leone: 0 hash bits apart
      [emojiFile("1f609.png"), emojiFile("1f636.png")], // winking face, face without mouth
    ];
    const sigs = await imageSignatures(pairs.flat());
    assert.equal(thumb(sigs[0]!).length, 3 * THUMB_SIDE * THUMB_SIDE);
    const errors = pairs.map((_, i) => alignedError(thumb(sigs[2 * i]!), thumb(sigs[2 * i + 1]!)));
    assert.ok(errors[0]! <= DUPLICATE_DEFAULTS.alignedMaxError, `the copy: ${errors[0]}`);
    assert.ok(errors[1]! > DUPLICATE_DEFAULTS.alignedMaxError, `Honduras and Sierra Leone: ${errors[1]}`);
    assert.ok(errors[2]! > DUPLICATE_DEFAULTS.alignedMaxError, `the two faces: ${errors[2]}`);
    assert.equal(alignedError(thumb(sigs[0]!), thumb(sigs[0]!)), 0);
    assert.equal(alignedError(thumb(sigs[0]!), new Uint8Array(5)), Infinity);
  });
});
