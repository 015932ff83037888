import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import sharp from "sharp";
import { configurePixelCache, decodeImage, type DecodeOptions } from "../../src/data/decode";
import { configureDecodeThreads, decodeOnWorker } from "../../src/data/decode-pool";
import { chunkAt, encodePng, randomSamples } from "./png-fixtures";

const dir = mkdtempSync(join(tmpdir(), "tlrun-pool-"));
const at = (name: string): string => join(dir, name);
const prevCache = configurePixelCache({ maxBytes: 0 });
const prevThreads = configureDecodeThreads({ threads: 2 });
after(() => {
  configureDecodeThreads(prevThreads);
  configurePixelCache(prevCache);
  rmSync(dir, { recursive: true, force: true });
});

const files = ["grey.png", "palette.png", "rgba.png", "photo.jpg", "interlaced.png", "cut.png", "missing.png"];

before(async () => {
  const rgba = encodePng({ width: 30, height: 20, colorType: 6, bitDepth: 8, samples: randomSamples(30 * 20 * 4, 8, 1) });
  writeFileSync(at("rgba.png"), rgba);
  writeFileSync(at("grey.png"), encodePng({ width: 17, height: 9, colorType: 0, bitDepth: 4, samples: randomSamples(17 * 9, 4, 2) }));
  writeFileSync(at("palette.png"), encodePng({ width: 9, height: 9, colorType: 3, bitDepth: 2, samples: randomSamples(81, 2, 3), palette: [0, 0, 0, 255, 0, 0, 0, 255, 0, 0, 0, 255], trns: Buffer.from([0]) }));
  await sharp(rgba).jpeg().toFile(at("photo.jpg"));
  await sharp(rgba).png({ progressive: true }).toFile(at("interlaced.png"));
  const idat = chunkAt(rgba, "IDAT");
  writeFileSync(at("cut.png"), rgba.subarray(0, idat.pos + 20));
});

/** Each file's pixels, or its error message, in one colour mode. */
async function decodeAll(colorMode: DecodeOptions["colorMode"]): Promise<Array<Uint8Array | string>> {
  const opts: DecodeOptions = { size: [24, 40], colorMode, maxPixels: 1e6, interpolation: "bicubic" };
  return Promise.all(files.map((f) => decodeImage(at(f), opts).catch((e: Error) => e.message)));
}

describe("decode workers", () => {
  it("give the same pixels and the same errors as decoding on the main thread", async () => {
    for (const mode of ["rgb", "grayscale"] as const) {
      const onWorkers = await decodeAll(mode);
      configureDecodeThreads({ threads: 0 });
      const here = await decodeAll(mode);
      configureDecodeThreads({ threads: 2 });
      assert.deepEqual(onWorkers, here, mode);
      assert.match(String(onWorkers[5]), /cut\.png: truncated/);
      assert.match(String(onWorkers[6]), /missing\.png: cannot read file/);
    }
  });

  it("take PNGs and hand everything else back", async () => {
    const opts: DecodeOptions = { size: [8, 8], colorMode: "rgb", maxPixels: 1e6, interpolation: "bilinear" };
    const reply = await decodeOnWorker(at("rgba.png"), opts);
    assert.ok(reply && "px" in reply && reply.px.length === 8 * 8 * 3);
    const back = await decodeOnWorker(at("interlaced.png"), opts);
    assert.ok(back && "sharp" in back, "interlaced PNGs are sharp's");
  });

  it("are not used at 0 threads", async () => {
    configureDecodeThreads({ threads: 0 });
    try {
      assert.equal(await decodeOnWorker(at("rgba.png"), { size: [8, 8], colorMode: "rgb", maxPixels: 1e6, interpolation: "bilinear" }), undefined);
    } finally {
      configureDecodeThreads({ threads: 2 });
    }
  });
});
