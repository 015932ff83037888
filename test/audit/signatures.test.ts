import assert from "node:assert/strict";
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import sharp from "sharp";
import { TlrunError } from "../../src/errors";
import { hamming, phashRgba, popcount32 } from "../../src/audit/phash";
import { imageSignatures } from "../../src/audit/signatures";
import { emojiFile } from "../helpers";

const dir = mkdtempSync(join(tmpdir(), "audit-engine-sig-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const at = (name: string): string => join(dir, name);

describe("imageSignatures", () => {
  it("gives the same pixels hash to one picture saved as PNG under two names, with and without an alpha channel", async () => {
    const src = emojiFile("1f34e.png");
    copyFileSync(src, at("a.png"));
    await sharp(src).png({ compressionLevel: 1 }).toFile(at("b-renamed.png"));
    await sharp(at("a.png")).flatten({ background: "#ffffff" }).png().toFile(at("flat.png"));
    await sharp(at("flat.png")).removeAlpha().png().toFile(at("flat-rgb.png"));
    await sharp(at("flat.png")).ensureAlpha().png().toFile(at("flat-rgba.png"));
    const [a, b, rgb, rgba] = await imageSignatures([at("a.png"), at("b-renamed.png"), at("flat-rgb.png"), at("flat-rgba.png")]);
    assert.equal(a!.pixels, b!.pixels);
    assert.deepEqual(a!.phash, b!.phash);
    assert.equal(rgb!.pixels, rgba!.pixels);
    assert.notEqual(a!.pixels, rgb!.pixels, "flattening changed the alpha channel, so the decoded RGBA differs");
    assert.equal(hamming(a!.phash, rgb!.phash), 0, "the hash sees transparency over white, as flattening onto white does");
  });

  it("keeps the hash of a re-encoded, resized, slightly cropped copy close, and that of a different emoji far", async () => {
    const src = emojiFile("1f418.png");
    await sharp(src).flatten({ background: "#ffffff" }).jpeg({ quality: 65 }).toFile(at("jpeg.jpg"));
    await sharp(src).resize(100, 100).png().toFile(at("big.png"));
    await sharp(src).resize(40, 40).png().toFile(at("small.png"));
    await sharp(src).extract({ left: 1, top: 2, width: 61, height: 60 }).png().toFile(at("crop.png"));
    const others = ["1f408.png", "1f41f.png", "1f333.png"].map((f) => emojiFile(f));
    const [orig, ...rest] = await imageSignatures([src, at("jpeg.jpg"), at("big.png"), at("small.png"), at("crop.png"), ...others]);
    const d = rest.map((s) => hamming(orig!.phash, s.phash));
    for (const copy of d.slice(0, 4)) assert.ok(copy <= 10, `copies within 10 bits: ${d}`);
    for (const other of d.slice(4)) assert.ok(other > 16, `different emoji beyond 16 bits: ${d}`);
  });

  it("reports progress and keeps the order of its input", async () => {
    const files = ["1f418.png", "1f408.png", "1f41f.png"].map((f) => emojiFile(f));
    let seen = 0;
    const many = await imageSignatures([...files, ...files], { concurrency: 2, onProgress: (n) => (seen = n) });
    assert.equal(seen, 6);
    assert.deepEqual(many.slice(3), many.slice(0, 3));
    assert.notEqual(many[0]!.pixels, many[1]!.pixels);
  });

  it("names a file it cannot read", async () => {
    writeFileSync(at("broken.png"), "not a png");
    await assert.rejects(imageSignatures([at("broken.png")]), (err: Error) => err instanceof TlrunError && err.message.includes("broken.png"));
  });
});

describe("phash", () => {
  it("sets half its bits for a picture with structure, and hamming counts differing bits", () => {
    const w = 48;
    const px = new Uint8Array(w * w * 4);
    for (let i = 0; i < w * w; i++) px.set([(i * 37) % 256, (i * 11) % 256, (i % w) * 5, 255], i * 4);
    const h = phashRgba(px, w, w);
    assert.equal(popcount32(h[0]) + popcount32(h[1]), 32); // the median splits 64 coefficients in two (no ties in this picture)
    assert.equal(hamming(h, [~h[0] >>> 0, ~h[1] >>> 0]), 64);
    assert.equal(hamming([0xffffffff, 0], [0, 0]), 32);
  });
});
