import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import sharp from "sharp";
import { THUMB_SIDE } from "../../src/audit/aligned-match";
import { phashRgba } from "../../src/audit/phash";
import { lumaOf, rgbGrid } from "../../src/audit/pixel-grids";
import { perceptualSignature } from "../../src/audit/pixel-signature";
import { decodeRgba } from "../../src/audit/signatures";
import { colourRgba, thumbRgba } from "../../src/audit/thumbnails";
import { tinyEmojiDataset } from "../helpers";
import { referenceColour, referenceLuma, referencePhash, referenceRgbPlanes, referenceThumb } from "./reference-signatures";

/**
 * The one-pass signature (`pixel-signature.ts`) against the seven-plane reductions it replaced
 * (`reference-signatures.ts`, the old code), on real emoji decoded as the audit decodes them and
 * on odd sizes, resized copies, JPEGs and synthetic transparency.
 */
const dir = mkdtempSync(join(tmpdir(), "audit-pixel-signature-"));
after(() => rmSync(dir, { recursive: true, force: true }));

interface Picture { name: string; rgba: Uint8Array; width: number; height: number }
const pictures: Picture[] = [];

/** A seeded noise picture with varying transparency: no symmetry, every alpha level. */
function synthetic(width: number, height: number, seed: number): Picture {
  const rgba = new Uint8Array(width * height * 4);
  let s = seed;
  for (let i = 0; i < rgba.length; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    rgba[i] = s >>> 24;
  }
  return { name: `synthetic ${width}x${height}`, rgba, width, height };
}

before(async () => {
  const emoji = tinyEmojiDataset(join(dir, "emoji"), 8);
  const files = readdirSync(emoji, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name)).sort();
  const sizes: Array<[number, number]> = [[37, 129], [129, 37], [5, 7], [31, 33], [100, 100], [257, 190], [512, 384]];
  for (const [i, file] of files.entries()) {
    const [w, h] = sizes[i % sizes.length]!;
    const resized = join(dir, `${i}-${w}x${h}.png`);
    await sharp(file).resize(w, h, { fit: "fill" }).png().toFile(resized);
    const jpeg = join(dir, `${i}-${h}x${w}.jpg`);
    await sharp(file).resize(h, w, { fit: "fill" }).flatten({ background: "#ffffff" }).jpeg({ quality: 80 }).toFile(jpeg);
    for (const path of [file, resized, jpeg]) pictures.push({ name: path, ...(await decodeRgba(path)) });
  }
  pictures.push(synthetic(37, 129, 1), synthetic(129, 37, 2), synthetic(3, 2, 3), synthetic(64, 64, 4), synthetic(33, 32, 5));
});

/** The byte `now` is the old value rounded, or one level off where the old value sat on .5 within float noise. */
function assertLevel(now: number, old: number, what: string): void {
  if (now === Math.round(old)) return;
  assert.ok(Math.abs(now - old) === 0.5 || Math.abs(Math.abs(now - old) - 0.5) < 1e-9, `${what}: ${now} for ${old}`);
}

describe("perceptualSignature against the reductions it replaced", () => {
  it("computes the 32×32 RGB grid bit for bit as the old per-channel planes did, and its luma within float noise", () => {
    for (const p of pictures) {
      const grid = rgbGrid(p.rgba, p.width, p.height, 32);
      const old = referenceRgbPlanes(p.rgba, p.width, p.height, 32);
      assert.deepEqual(grid, Float64Array.from([...old[0]!, ...old[1]!, ...old[2]!]), p.name);
      const luma = lumaOf(grid, 32);
      const oldLuma = referenceLuma(p.rgba, p.width, p.height);
      for (let i = 0; i < luma.length; i++) assert.ok(Math.abs(luma[i]! - oldLuma[i]!) < 1e-9, `${p.name} luma ${i}: ${luma[i]} vs ${oldLuma[i]}`);
    }
  });

  it("gives the same hash bits, except a coefficient on the median within 1e-9, and thumbnails within a level where the old value rounded at .5", (t) => {
    const flipped: string[] = [];
    let offByOne = 0;
    for (const p of pictures) {
      const now = perceptualSignature(p.rgba, p.width, p.height);
      const old = referencePhash(p.rgba, p.width, p.height);
      for (let i = 0; i < 64; i++) {
        const word = i < 32 ? 0 : 1;
        const mask = 1 << (31 - (i % 32));
        if (((now.phash[word] ^ old.bits[word]) & mask) === 0) continue;
        flipped.push(`${p.name.replace(dir, "")} bit ${i}`);
        assert.ok(Math.abs(old.coeff[i]! - old.median) < 1e-9, `${p.name}: bit ${i} flipped with coefficient ${old.coeff[i]} against median ${old.median}`);
      }
      for (const [side, bytes] of [[4, Buffer.from(now.colour!, "hex")], [THUMB_SIDE, Buffer.from(now.thumb!, "base64")]] as const) {
        const planes = referenceRgbPlanes(p.rgba, p.width, p.height, side);
        assert.equal(bytes.length, side * side * 3);
        for (let i = 0; i < side * side; i++) {
          for (let ch = 0; ch < 3; ch++) {
            if (bytes[i * 3 + ch] !== Math.round(planes[ch]![i]!)) offByOne++;
            assertLevel(bytes[i * 3 + ch]!, planes[ch]![i]!, `${p.name} ${side}×${side} cell ${i} channel ${ch}`);
          }
        }
      }
    }
    t.diagnostic(`${pictures.length} pictures: ${flipped.length} hash bits flipped on the median (${flipped.join(", ")}), ${offByOne} thumbnail levels rounded the other way at .5`);
  });

  it("keeps colourRgba and thumbRgba, which reduce the picture directly, byte for byte, and phashRgba equal to the one-pass hash", () => {
    for (const p of pictures) {
      assert.equal(colourRgba(p.rgba, p.width, p.height), referenceColour(p.rgba, p.width, p.height), p.name);
      assert.equal(thumbRgba(p.rgba, p.width, p.height, 16), referenceThumb(p.rgba, p.width, p.height, 16), p.name);
      assert.equal(thumbRgba(p.rgba, p.width, p.height, 12), referenceThumb(p.rgba, p.width, p.height, 12), p.name);
      assert.deepEqual(phashRgba(p.rgba, p.width, p.height), perceptualSignature(p.rgba, p.width, p.height).phash, p.name);
    }
  });

  it("covered a few dozen pictures of different sizes, opaque and transparent", () => {
    assert.ok(pictures.length >= 70, `${pictures.length} pictures`);
    assert.ok(new Set(pictures.map((p) => `${p.width}x${p.height}`)).size >= 10);
    assert.ok(pictures.some((p) => p.rgba.some((v, i) => i % 4 === 3 && v > 0 && v < 255)), "some partial transparency");
  });
});
