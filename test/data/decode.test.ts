import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { deflateSync } from "node:zlib";
import { after, before, describe, it } from "node:test";
import sharp, { type Sharp } from "sharp";
import { TlrunError } from "../../src/errors";
import { clearPixelCache, configurePixelCache, decodeImage, decodeInto, pixelCacheStats, probeImage, warmPixelCache, type DecodeOptions } from "../../src/data/decode";
import { JS_PATH_MAX_SAMPLES } from "../../src/data/decode-png";
import { configureDecodeThreads } from "../../src/data/decode-pool";
import { decodePng, readPng } from "../../src/data/png";
import { rgbToGray } from "../../src/data/preprocess";
import { resize } from "../../src/data/resize";
import { chunkAt, encodePng, randomSamples } from "./png-fixtures";

const dir = mkdtempSync(join(tmpdir(), "tlrun-decode-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const at = (name: string): string => join(dir, name);
const LIMIT = 50_000_000;

/** 32x32 RGB noise, so encoders cannot compress it away. */
function noise(w = 32, h = 32, c = 3): Sharp {
  const px = Buffer.alloc(w * h * c);
  for (let i = 0; i < px.length; i++) px[i] = (i * 7919 + (i >> 5) * 31) % 251;
  return sharp(px, { raw: { width: w, height: h, channels: c as 3 } });
}

/** A PNG whose header declares `side`x`side` 1-bit pixels: tiny on disk, huge when decoded. */
function bombPng(side: number): Buffer {
  const chunk = (type: string, data: Buffer): Buffer => {
    const body = Buffer.concat([Buffer.from(type, "latin1"), data]);
    const out = Buffer.alloc(body.length + 8);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc32(body), body.length + 4);
    return out;
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(side, 0);
  ihdr.writeUInt32BE(side, 4);
  ihdr[8] = 1; // bit depth 1, colour type 0 (grey)
  const raw = Buffer.alloc((Math.ceil(side / 8) + 1) * side);
  const sig = Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]);
  return Buffer.concat([sig, chunk("IHDR", ihdr), chunk("IDAT", deflateSync(raw, { level: 9 })), chunk("IEND", Buffer.alloc(0))]);
}

function crc32(buf: Buffer): number {
  let c = ~0;
  for (const b of buf) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return ~c >>> 0;
}

before(async () => {
  mkdirSync(dir, { recursive: true });
  const png = await noise().png().toBuffer();
  const jpg = await noise().jpeg().toBuffer();
  writeFileSync(at("ok.png"), png);
  writeFileSync(at("ok.jpg"), jpg);
  writeFileSync(at("trunc.png"), png.subarray(0, png.length >> 1));
  writeFileSync(at("trunc.jpg"), jpg.subarray(0, jpg.length - 200));
  writeFileSync(at("zero.png"), "");
  writeFileSync(at("text.jpg"), "this is not a jpeg, just text\n");
  writeFileSync(at("renamed-bmp.png"), Buffer.concat([Buffer.from("BM"), Buffer.alloc(64)]));
  writeFileSync(at("bomb.png"), bombPng(20000));
  await noise().toColourspace("cmyk").jpeg().toFile(at("cmyk.jpg"));
  await noise().toColourspace("rgb16").png().toFile(at("deep.png"));
  await noise(32, 32, 1).png().toFile(at("gray.png"));
  await noise().png({ palette: true, colours: 16 }).toFile(at("palette.png"));
  await noise().tiff().toFile(at("ok.tiff"));
  await noise().webp().toFile(at("ok.webp"));
  await noise().gif().toFile(at("ok.gif"));
  await noise().avif({ effort: 0 }).toFile(at("ok.avif"));
  // RGBA: left half opaque red, right half fully transparent with black hidden under it.
  const rgba = Buffer.alloc(8 * 4 * 4);
  for (let i = 0; i < 32; i++) if (i % 8 < 4) rgba.set([255, 0, 0, 255], i * 4);
  await sharp(rgba, { raw: { width: 8, height: 4, channels: 4 } }).png().toFile(at("alpha.png"));
  // 40 wide x 20 tall, left half red, right half blue, tagged "rotate 90 degrees clockwise to display".
  const rb = Buffer.alloc(40 * 20 * 3);
  for (let i = 0; i < 800; i++) rb.set(i % 40 < 20 ? [255, 0, 0] : [0, 0, 255], i * 3);
  await sharp(rb, { raw: { width: 40, height: 20, channels: 3 } }).jpeg({ quality: 100 }).withMetadata({ orientation: 6 }).toFile(at("exif6.jpg"));
});

describe("probeImage", () => {
  const cases: Array<[string, string | RegExp]> = [
    ["trunc.png", "truncated"],
    ["trunc.jpg", "truncated"],
    ["zero.png", "zero bytes"],
    ["text.jpg", "not an image"],
    ["renamed-bmp.png", "unsupported format (BMP)"],
    ["bomb.png", `too many pixels (20000×20000 > ${LIMIT})`],
    ["missing.png", /cannot read file \(ENOENT\)/],
  ];
  for (const [file, reason] of cases) {
    it(`refuses ${file}: ${String(reason)}`, async () => {
      const r = await probeImage(at(file), LIMIT);
      assert.equal(r.ok, false);
      if (!r.ok) typeof reason === "string" ? assert.equal(r.reason, reason) : assert.match(r.reason, reason);
    });
  }

  it("refuses the decompression bomb from its header, quickly", async () => {
    const t = performance.now();
    await probeImage(at("bomb.png"), LIMIT);
    await assert.rejects(decodeImage(at("bomb.png"), { size: [8, 8], colorMode: "rgb", maxPixels: LIMIT, interpolation: "bilinear" }), /too many pixels/);
    assert.ok(performance.now() - t < 2000, "must not decode 400M pixels");
  });

  for (const file of ["ok.png", "ok.jpg", "cmyk.jpg", "deep.png", "gray.png", "palette.png", "ok.tiff", "ok.webp", "ok.gif", "ok.avif"]) {
    it(`accepts ${file}`, async () => {
      const r = await probeImage(at(file), LIMIT);
      assert.deepEqual(r.ok && [r.width, r.height], [32, 32]);
    });
  }

  it("reports dimensions after EXIF orientation", async () => {
    assert.deepEqual(await probeImage(at("exif6.jpg"), LIMIT), { ok: true, width: 20, height: 40, format: "jpeg" });
  });
});

describe("decodeImage", () => {
  for (const file of ["ok.png", "ok.jpg", "cmyk.jpg", "deep.png", "gray.png", "palette.png", "ok.tiff", "ok.webp", "ok.gif", "ok.avif"]) {
    it(`decodes ${file} to [h, w, c] uint8 in both colour modes`, async () => {
      assert.equal((await decodeImage(at(file), { size: [24, 16], colorMode: "rgb", maxPixels: LIMIT, interpolation: "bilinear" })).length, 24 * 16 * 3);
      assert.equal((await decodeImage(at(file), { size: [24, 16], colorMode: "grayscale", maxPixels: LIMIT, interpolation: "bilinear" })).length, 24 * 16);
    });
  }

  it("flattens transparency onto white", async () => {
    const px = await decodeImage(at("alpha.png"), { size: [4, 8], colorMode: "rgb", maxPixels: LIMIT, interpolation: "bilinear" });
    assert.deepEqual([...px.subarray(0, 3)], [255, 0, 0]);
    assert.deepEqual([...px.subarray(7 * 3, 8 * 3)], [255, 255, 255]);
  });

  it("applies EXIF orientation: the left (red) half ends up on top", async () => {
    const px = await decodeImage(at("exif6.jpg"), { size: [40, 20], colorMode: "rgb", maxPixels: LIMIT, interpolation: "bilinear" });
    const pixel = (x: number, y: number): number[] => [...px.subarray((y * 20 + x) * 3, (y * 20 + x) * 3 + 3)];
    const [r1, , b1] = pixel(10, 5);
    const [r2, , b2] = pixel(10, 35);
    assert.ok(r1! > 200 && b1! < 60, `top should be red, got ${pixel(10, 5)}`);
    assert.ok(b2! > 200 && r2! < 60, `bottom should be blue, got ${pixel(10, 35)}`);
  });

  it("throws a TlrunError naming the file for bad input", async () => {
    for (const f of ["trunc.png", "trunc.jpg", "zero.png", "text.jpg", "missing.png"]) {
      await assert.rejects(decodeImage(at(f), { size: [8, 8], colorMode: "rgb", maxPixels: LIMIT, interpolation: "bilinear" }), (e: unknown) => e instanceof TlrunError && e.message.includes(f));
    }
  });
});

describe("the JS PNG path", () => {
  const rgb = (size: [number, number], interpolation: DecodeOptions["interpolation"] = "bilinear"): DecodeOptions => ({ size, colorMode: "rgb", maxPixels: LIMIT, interpolation });
  /** What the sharp path computes for `file`, in RGB. */
  const viaSharp = async (file: string, [h, w]: [number, number], kernel: "linear" | "nearest" = "linear"): Promise<Uint8Array> =>
    new Uint8Array(await sharp(file).autoOrient().flatten({ background: { r: 255, g: 255, b: 255 } }).toColourspace("srgb").removeAlpha().resize(w, h, { fit: "fill", kernel }).raw().toBuffer());
  /** An emoji-like RGBA PNG: an opaque disc with a soft edge on transparent black. */
  const disc = (side: number): Buffer => {
    const px: number[] = [];
    for (let y = 0; y < side; y++)
      for (let x = 0; x < side; x++) {
        const r = Math.hypot(x - side / 2, y - side / 2) / (side / 2);
        px.push(240, (x * 5) % 256, (y * 3) % 256, Math.max(0, Math.min(255, Math.round((1.1 - r) * 600))));
      }
    return encodePng({ width: side, height: side, colorType: 6, bitDepth: 8, samples: px });
  };

  /** Run `body` with the pixel cache at `maxBytes` and empty (and `threads` decode workers when given), then put both back. */
  const withPixelCache = async (maxBytes: number, body: () => Promise<void>, threads?: number): Promise<void> => {
    const prev = configurePixelCache({ maxBytes });
    const prevThreads = threads === undefined ? undefined : configureDecodeThreads({ threads });
    try {
      clearPixelCache();
      await body();
    } finally {
      if (prevThreads) configureDecodeThreads(prevThreads);
      configurePixelCache(prev);
      clearPixelCache();
    }
  };

  before(async () => {
    writeFileSync(at("disc.png"), disc(40));
    const plain = encodePng({ width: 40, height: 40, colorType: 2, bitDepth: 8, samples: randomSamples(40 * 40 * 3, 8, 5) });
    writeFileSync(at("plain.png"), plain);
    writeFileSync(at("big.png"), encodePng({ width: 300, height: 300, colorType: 2, bitDepth: 8, samples: randomSamples(300 * 300 * 3, 8, 6) }));
    await sharp(plain).png({ progressive: true }).toFile(at("interlaced.png"));
    await sharp(plain).toColourspace("rgb16").png().toFile(at("plain16.png"));
    await sharp(plain).png().withMetadata({ orientation: 6 }).toFile(at("exif6.png"));
    const idat = chunkAt(plain, "IDAT");
    writeFileSync(at("cut.png"), plain.subarray(0, idat.pos + 8 + (idat.len >> 1)));
    const crc = Buffer.from(plain);
    crc[idat.pos + 8 + idat.len] ^= 1;
    writeFileSync(at("crc.png"), crc);
  });

  it("resamples the decoded PNG itself, with the kernel asked for", async () => {
    const img = decodePng(readPng(readFileSync(at("disc.png")))!)!;
    for (const kernel of ["bilinear", "nearest", "bicubic", "lanczos3"] as const) {
      const want = resize(img.data, [40, 40], 3, [24, 56], kernel);
      assert.deepEqual(await decodeImage(at("disc.png"), rgb([24, 56], kernel)), want, kernel);
    }
  });

  it("keeps the kernel in the pixel cache key", () =>
    withPixelCache(2 ** 20, async () => {
      const a = await decodeImage(at("disc.png"), rgb([64, 64], "bilinear"));
      const b = await decodeImage(at("disc.png"), rgb([64, 64], "nearest"));
      assert.notDeepEqual(a, b);
      assert.deepEqual(await decodeImage(at("disc.png"), rgb([64, 64], "nearest")), b);
    }));

  it("warms the pixel cache with as many images as fit half its budget; the loader joins those decodes", () => {
    const files = ["disc.png", "plain.png", "interlaced.png", "plain16.png", "exif6.png"].map(at);
    const opts = rgb([16, 16]);
    return withPixelCache(0, async () => {
      const cold = await Promise.all(files.map((f) => decodeImage(f, opts)));
      configurePixelCache({ maxBytes: 5 * 16 * 16 * 3 }); // half holds two
      const started = pixelCacheStats().decodes;
      warmPixelCache(files, opts);
      assert.equal(pixelCacheStats().decoding, 2);
      const got = await Promise.all(files.map((f) => decodeImage(f, opts)));
      assert.deepEqual(got, cold, "the same pixels as decoding each file once, cache off");
      assert.equal(pixelCacheStats().decodes - started, 5, "the two warmed files were joined, not decoded again");
      assert.deepEqual({ ...pixelCacheStats(), decodes: 0 }, { images: 5, bytes: 5 * 16 * 16 * 3, decoding: 0, decodes: 0 });
      got[0]!.fill(0);
      assert.deepEqual(await decodeImage(files[0]!, opts), cold[0], "each caller gets its own copy");
    }, 1); // one decode worker: warming needs them
  });

  it("decodeInto on a worker registers its decode: a request for the same file meanwhile joins it", () =>
    withPixelCache(2 ** 20, async () => {
      const opts = rgb([16, 16]);
      const floats = (): Float32Array => new Float32Array(new SharedArrayBuffer(16 * 16 * 3 * 4));
      const [a, b, c] = [floats(), floats(), floats()];
      const started = pixelCacheStats().decodes;
      const first = decodeInto(at("disc.png"), opts, { out: a, offset: 0, preprocessing: "tf" });
      assert.equal(pixelCacheStats().decoding, 1, "the worker's decode is known while it runs");
      const second = decodeInto(at("disc.png"), opts, { out: b, offset: 0, preprocessing: "tf" });
      const viaImage = decodeImage(at("disc.png"), opts);
      await Promise.all([first, second, viaImage]);
      assert.equal(pixelCacheStats().decodes - started, 1, "one decode for three requests");
      assert.equal(pixelCacheStats().decoding, 0);
      assert.deepEqual(b, a);
      await decodeInto(at("disc.png"), opts, { out: c, offset: 0, preprocessing: "tf" }); // from the cache
      assert.deepEqual(c, a);
      assert.equal(pixelCacheStats().decodes - started, 1);
      // a damaged file's registered decode is dropped, and each request reports it
      const cut = [0, 1].map(() => decodeInto(at("cut.png"), opts, { out: floats(), offset: 0, preprocessing: "tf" }));
      for (const p of cut) await assert.rejects(p, /cut\.png: truncated/);
      assert.equal(pixelCacheStats().decoding, 0);
    }, 1));

  it("warms only PNGs, and only on decode workers: nothing that would start on this thread", () =>
    withPixelCache(2 ** 20, async () => {
      warmPixelCache([at("disc.png")], rgb([8, 8]));
      assert.equal(pixelCacheStats().decoding, 0, "no decode workers");
      configureDecodeThreads({ threads: 1 });
      await sharp(at("plain.png")).jpeg().toFile(at("plain.jpg"));
      warmPixelCache([at("plain.jpg"), at("disc.png")], rgb([8, 8]));
      assert.equal(pixelCacheStats().decoding, 1, "the PNG only");
      await decodeImage(at("disc.png"), rgb([8, 8]));
    }, 0));

  it("drops a warmed decode that fails; the loader's own decode reports it", () =>
    withPixelCache(2 ** 20, async () => {
      warmPixelCache([at("cut.png")], rgb([8, 8])); // warmed only with decode workers; the assertions hold either way
      await assert.rejects(decodeImage(at("cut.png"), rgb([8, 8])), /cut\.png: truncated/);
      assert.equal(pixelCacheStats().decoding, 0);
      assert.equal(pixelCacheStats().images, 0);
    }));

  for (const file of ["interlaced.png", "plain16.png", "exif6.png"]) {
    it(`leaves ${file} to sharp, which decodes it as before`, async () => {
      assert.equal(readPng(readFileSync(at(file))), undefined);
      assert.deepEqual(await decodeImage(at(file), rgb([48, 52])), await viaSharp(at(file), [48, 52]));
    });
  }

  it("leaves PNGs above JS_PATH_MAX_SAMPLES to sharp, which is faster there", async () => {
    assert.ok(300 * 300 * 3 > JS_PATH_MAX_SAMPLES);
    assert.deepEqual(await decodeImage(at("big.png"), rgb([48, 52])), await viaSharp(at("big.png"), [48, 52]));
  });

  it("tells its output apart from sharp's (so the test above shows which path ran)", async () => {
    assert.notDeepEqual(await decodeImage(at("plain.png"), rgb([48, 52])), await viaSharp(at("plain.png"), [48, 52]));
  });

  it("gives the same reasons for damaged PNGs", async () => {
    assert.deepEqual(await probeImage(at("cut.png"), LIMIT), { ok: false, reason: "truncated" });
    assert.deepEqual(await probeImage(at("crc.png"), LIMIT), { ok: false, reason: "corrupt image data (CRC mismatch in IDAT chunk)" });
    await assert.rejects(decodeImage(at("cut.png"), rgb([8, 8])), /cut\.png: truncated/);
    assert.deepEqual(await probeImage(at("plain.png"), LIMIT), { ok: true, width: 40, height: 40, format: "png" });
  });
});

describe("grayscale", () => {
  const opts = (colorMode: "rgb" | "grayscale"): DecodeOptions => ({ size: [24, 16], colorMode, maxPixels: LIMIT, interpolation: "bilinear" });

  it("is ITU-R 601 luma of the RGB pixels on the sharp path (JPEG, TIFF, WebP)", async () => {
    for (const file of ["ok.jpg", "ok.tiff", "ok.webp", "cmyk.jpg"]) {
      assert.deepEqual(await decodeImage(at(file), opts("grayscale")), rgbToGray(await decodeImage(at(file), opts("rgb"))), file);
    }
  });

  it("is the same luma, to within 1, on the JS path (converted before resizing)", async () => {
    for (const file of ["ok.png", "alpha.png", "palette.png"]) {
      const gray = await decodeImage(at(file), opts("grayscale"));
      const luma = rgbToGray(await decodeImage(at(file), opts("rgb")));
      gray.forEach((v, i) => assert.ok(Math.abs(v - luma[i]!) <= 1, `${file}[${i}]: ${v} vs ${luma[i]}`));
    }
  });

  it("weights red, green and blue as PIL's convert('L') does", () => {
    assert.deepEqual([...rgbToGray(new Uint8Array([255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255, 10, 200, 30]))], [76, 150, 29, 255, 124]);
  });
});
