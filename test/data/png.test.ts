import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { deflateSync } from "node:zlib";
import sharp from "sharp";
import { PngDataError, decodePng, readPng, type PngPixels } from "../../src/data/png";
import { chunk, chunkAt, encodePng, randomSamples, type PngSpec } from "./png-fixtures";

const W = 13; // odd, so sub-byte rows end part-way through a byte
const H = 11;

/** sharp's own decode of `png` at its size: flattened onto white, sRGB, no alpha. */
async function sharpPixels(png: Buffer): Promise<Buffer> {
  return sharp(png).flatten({ background: { r: 255, g: 255, b: 255 } }).toColourspace("srgb").removeAlpha().raw().toBuffer();
}

/** Our decode, grey spread to three channels so it compares with sharp's sRGB. */
function ours(png: Buffer): Uint8Array {
  const file = readPng(png);
  assert.ok(file, "the JS decoder should take this PNG");
  const img = decodePng(file) as PngPixels;
  assert.ok(img);
  assert.deepEqual([img.width, img.height], [W, H]);
  if (img.channels === 3) return img.data;
  return Uint8Array.from({ length: img.data.length * 3 }, (_, i) => img.data[Math.floor(i / 3)]!);
}

function maxDiff(a: Uint8Array, b: Uint8Array): number {
  assert.equal(a.length, b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
  return d;
}

const spec = (colorType: PngSpec["colorType"], bitDepth: PngSpec["bitDepth"], extra: Partial<PngSpec> = {}): PngSpec => {
  const spp = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 }[colorType];
  const bits = colorType === 3 ? Math.min(bitDepth, 4) : bitDepth; // palette indices stay inside a 16-entry palette
  return { width: W, height: H, colorType, bitDepth, samples: randomSamples(W * H * spp, bits, colorType * 100 + bitDepth), ...extra };
};
const PALETTE = Array.from({ length: 16 * 3 }, (_, i) => (i * 53 + 17) % 256);
const u16 = (...v: number[]): Buffer => Buffer.concat(v.map((x) => Buffer.from([x >> 8, x & 255])));

const CASES: Array<[string, PngSpec]> = [
  ...([1, 2, 4, 8] as const).map((d): [string, PngSpec] => [`grey, ${d}-bit`, spec(0, d)]),
  ...([1, 2, 4, 8] as const).map((d): [string, PngSpec] => [`grey, ${d}-bit, tRNS`, spec(0, d, { trns: u16(d === 1 ? 1 : 2) })]),
  ["RGB, 8-bit", spec(2, 8)],
  ["RGB, 8-bit, tRNS", spec(2, 8, { trns: u16(0, 0, 0) })],
  ...([1, 2, 4, 8] as const).map((d): [string, PngSpec] => [`palette, ${d}-bit`, spec(3, d, { palette: PALETTE.slice(0, 3 * Math.min(16, 2 ** d)) })]),
  ...([1, 2, 4, 8] as const).map((d): [string, PngSpec] => [
    `palette, ${d}-bit, tRNS`,
    spec(3, d, { palette: PALETTE.slice(0, 3 * Math.min(16, 2 ** d)), trns: Buffer.from([0, 128, 255, 7].slice(0, Math.min(4, 2 ** d - 1))) }),
  ]),
  ["grey + alpha, 8-bit", spec(4, 8)],
  ["RGBA, 8-bit", spec(6, 8)],
  ["RGBA, 8-bit, three IDAT chunks", spec(6, 8, { idats: 3 })],
];

describe("decodePng", () => {
  for (const [name, s] of CASES) {
    it(`matches sharp exactly: ${name}`, async () => {
      const png = encodePng(s);
      assert.equal(maxDiff(ours(png), await sharpPixels(png)), 0);
    });
  }

  it("makes the tRNS colour white and leaves others alone", () => {
    const samples = [10, 20, 30, 40, 50, 60];
    const png = encodePng({ width: 2, height: 1, colorType: 2, bitDepth: 8, samples, trns: u16(40, 50, 60) });
    assert.deepEqual([...decodePng(readPng(png)!)!.data], [10, 20, 30, 255, 255, 255]);
  });

  it("flattens a palette entry's alpha onto white", () => {
    const png = encodePng({ width: 2, height: 1, colorType: 3, bitDepth: 8, samples: [0, 1], palette: [0, 0, 0, 200, 0, 0], trns: Buffer.from([0, 128]) });
    assert.deepEqual([...decodePng(readPng(png)!)!.data], [255, 255, 255, 227, 127, 127]);
  });
});

describe("readPng leaves to sharp", () => {
  const rgb = spec(2, 8);
  const cases: Array<[string, () => Promise<Buffer> | Buffer]> = [
    ["interlaced", () => sharp(encodePng(rgb)).png({ progressive: true }).toBuffer()],
    ["16-bit", () => encodePng(spec(2, 16))],
    ["iCCP", () => encodePng({ ...rgb, extra: [["iCCP", Buffer.from("icc\0\0xx")]] })],
    ["sRGB", () => encodePng({ ...rgb, extra: [["sRGB", Buffer.from([0])]] })],
    ["gAMA", () => encodePng({ ...rgb, extra: [["gAMA", u16(0, 45455)]] })],
    ["cHRM", () => encodePng({ ...rgb, extra: [["cHRM", Buffer.alloc(32)]] })],
    ["eXIf", () => encodePng({ ...rgb, extra: [["eXIf", Buffer.from("MM\0*\0\0\0\x08\0\0", "latin1")]] })],
    ["APNG (acTL)", () => encodePng({ ...rgb, extra: [["acTL", Buffer.alloc(8)]] })],
    ["an unknown critical chunk", () => encodePng({ ...rgb, extra: [["ABCD", Buffer.alloc(4)]] })],
    ["an ancillary chunk with a bad CRC", () => corruptCrc(encodePng({ ...rgb, extra: [["tEXt", Buffer.from("a\0b")]] }), "tEXt")],
    ["palette indices past the palette", () => encodePng({ ...spec(3, 8), palette: PALETTE.slice(0, 6) })],
    ["a JPEG", () => sharp(encodePng(rgb)).jpeg().toBuffer()],
  ];
  for (const [name, make] of cases) {
    it(name, async () => {
      const png = await make();
      const file = readPng(png);
      assert.ok(file === undefined || decodePng(file) === undefined, "the JS decoder must not take it");
    });
  }
});

describe("damaged PNGs", () => {
  const png = encodePng(spec(6, 8));
  const idat = chunkAt(png, "IDAT");
  const reason = (buf: Buffer): string => {
    try {
      const file = readPng(buf);
      assert.ok(file);
      decodePng(file);
    } catch (err) {
      assert.ok(err instanceof PngDataError, String(err));
      return err.message;
    }
    return "ok";
  };
  const withIdat = (data: Buffer): Buffer => Buffer.concat([png.subarray(0, idat.pos), chunk("IDAT", data), png.subarray(idat.pos + 12 + idat.len)]);
  const z = png.subarray(idat.pos + 8, idat.pos + 8 + idat.len);

  it("a file cut inside the image data is truncated", () => {
    assert.equal(reason(png.subarray(0, idat.pos + 8 + (idat.len >> 1))), "truncated");
    assert.equal(reason(png.subarray(0, 30)), "truncated");
  });
  it("a file missing only its IEND decodes, as libpng allows", () => {
    assert.equal(reason(png.subarray(0, png.length - 12)), "ok");
  });
  it("a bad CRC on a critical chunk is corrupt data", () => {
    assert.equal(reason(corruptCrc(png, "IDAT")), "corrupt image data (CRC mismatch in IDAT chunk)");
    assert.equal(reason(corruptCrc(png, "IHDR")), "corrupt image data (CRC mismatch in IHDR chunk)");
  });
  it("a cut deflate stream in a complete file is corrupt data; without IEND it is truncated", () => {
    const cut = withIdat(z.subarray(0, z.length >> 1));
    assert.equal(reason(cut), "corrupt image data (too little image data)");
    assert.equal(reason(cut.subarray(0, cut.length - 12)), "truncated");
  });
  it("garbage in the deflate stream is corrupt data", () => {
    const bad = Buffer.from(z);
    for (let i = 2; i < bad.length; i += 3) bad[i] ^= 0x5a;
    assert.match(reason(withIdat(bad)), /^corrupt image data \(.+\)$/);
  });
  it("an unknown row filter is corrupt data", () => {
    const rows = Buffer.alloc((W * 4 + 1) * H);
    rows[0] = 9;
    assert.equal(reason(withIdat(deflateSync(rows))), "corrupt image data (bad filter type 9 in row 0)");
  });
});

/** Flip a bit of `type`'s CRC. */
function corruptCrc(png: Buffer, type: string): Buffer {
  const { pos, len } = chunkAt(png, type);
  const out = Buffer.from(png);
  out[pos + 8 + len] ^= 1;
  return out;
}
