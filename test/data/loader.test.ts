import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import sharp from "sharp";
import type { AugmentConfig } from "../../src/config/types";
import { TlrunError } from "../../src/errors";
import { clearPixelCache, configurePixelCache } from "../../src/data/decode";
import { configureDecodeThreads } from "../../src/data/decode-pool";
import { batches, type Batch, type BatchOptions } from "../../src/data/loader";
import { encodePng, randomSamples } from "./png-fixtures";

const dir = mkdtempSync(join(tmpdir(), "tlrun-loader-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const N = 11;
const files = Array.from({ length: N }, (_, i) => ({ abs: join(dir, `img${i}.png`) }));
const AUG: AugmentConfig = { horizontal_flip: true, vertical_flip: true, rotation: 30, zoom: 0.2, shift: 0.1, brightness: 0.2, contrast: 0.2, feature_copies: 1, fine_tune_views: 0 };

before(async () => {
  // Image i is a flat grey of value 10 * i, so every batch slot shows which file it came from.
  for (let i = 0; i < N; i++) {
    const v = 10 * i;
    await sharp({ create: { width: 9 + i, height: 7, channels: 3, background: { r: v, g: v, b: v } } }).png().toFile(files[i]!.abs);
  }
});

const base: BatchOptions = { size: [8, 6], colorMode: "rgb", maxPixels: 1e6, interpolation: "bilinear", preprocessing: "none", batchSize: 4 };
async function collect(items: Array<{ abs: string }>, o: Partial<BatchOptions> = {}): Promise<Batch[]> {
  const out: Batch[] = [];
  for await (const b of batches(items, { ...base, ...o })) out.push(b);
  return out;
}

describe("batches", () => {
  it("yields batches in order with [n, h, w, 3] floats", async () => {
    const got = await collect(files, { concurrency: 3, prefetch: 2 });
    assert.deepEqual(got.map((b) => b.n), [4, 4, 3]);
    assert.deepEqual(got.flatMap((b) => b.indices), Array.from({ length: N }, (_, i) => i));
    for (const b of got) {
      assert.equal(b.x.length, b.n * 8 * 6 * 3);
      b.indices.forEach((index, slot) => {
        const img = b.x.subarray(slot * 144, (slot + 1) * 144);
        assert.ok(img.every((v) => v === 10 * index), `slot ${slot} should hold image ${index}`);
      });
    }
  });

  it("replicates grayscale into three channels and applies preprocessing", async () => {
    const [b] = await collect(files.slice(3, 4), { colorMode: "grayscale", preprocessing: "tf" });
    assert.equal(b!.x.length, 8 * 6 * 3);
    assert.ok(b!.x.every((v) => Math.abs(v - (30 / 127.5 - 1)) < 1e-6));
  });

  it("repeats augmentation exactly for the same (seed, epoch) and changes it across epochs", async () => {
    const grad = join(dir, "gradient.png");
    const px = Buffer.alloc(16 * 16 * 3);
    for (let i = 0; i < px.length; i++) px[i] = (i * 13) % 256;
    await sharp(px, { raw: { width: 16, height: 16, channels: 3 } }).png().toFile(grad);
    const items = [{ abs: grad }, { abs: grad }];
    const run = (epoch: number) => collect(items, { size: [16, 16], augment: { cfg: AUG, seed: 42, epoch } });
    const [a] = await run(0);
    const [b] = await run(0);
    const [c] = await run(1);
    assert.deepEqual(a!.x, b!.x);
    assert.notDeepEqual(a!.x, c!.x);
    const per = 16 * 16 * 3;
    assert.notDeepEqual(a!.x.subarray(0, per), a!.x.subarray(per), "each item index gets its own draw");
  });

  it("throws a TlrunError naming a file that no longer decodes, without unhandled rejections", async () => {
    const broken = join(dir, "broken.png");
    writeFileSync(broken, "not a png any more");
    const items = [...files.slice(0, 5), { abs: broken }, ...files.slice(5)];
    let unhandled = 0;
    const onUnhandled = (): void => void unhandled++;
    process.on("unhandledRejection", onUnhandled);
    try {
      const seen: number[] = [];
      await assert.rejects(
        (async () => {
          for await (const b of batches(items, { ...base, batchSize: 2 })) seen.push(...b.indices);
        })(),
        (e: unknown) => e instanceof TlrunError && e.message.includes("broken.png"),
      );
      assert.deepEqual(seen, [0, 1, 2, 3], "batches before the bad one are delivered");
      // A consumer that stops early while a prefetched batch is failing must not leak a rejection either.
      for await (const b of batches(items, { ...base, batchSize: 2, prefetch: 4 })) if (b.indices[0] === 0) break;
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(unhandled, 0);
    } finally {
      process.off("unhandledRejection", onUnhandled);
    }
  });

  it("reuseBuffers fills a few buffers in turn, with the same values as fresh ones", async () => {
    const fresh: number[][] = [];
    for await (const b of batches(files, { ...base, batchSize: 2, prefetch: 1 })) fresh.push([...b.x]);
    const seen: ArrayBufferLike[] = [];
    let i = 0;
    for await (const b of batches(files, { ...base, batchSize: 2, prefetch: 1, reuseBuffers: true })) {
      assert.deepEqual([...b.x], fresh[i++], `batch ${i - 1}`); // consumed before asking for the next
      seen.push(b.x.buffer);
    }
    assert.equal(i, fresh.length);
    assert.equal(new Set(seen).size, 3, "prefetch 1: three buffers in turn");
    assert.equal(seen[3], seen[0]);
  });

  it("is filled by the decode workers in shared memory with the floats this thread computes", async () => {
    // textured RGBA, grey and palette PNGs (the workers'), a JPEG and an interlaced PNG (sharp's, here)
    const tex = [
      encodePng({ width: 23, height: 17, colorType: 6, bitDepth: 8, samples: randomSamples(23 * 17 * 4, 8, 11) }),
      encodePng({ width: 12, height: 20, colorType: 0, bitDepth: 8, samples: randomSamples(12 * 20, 8, 12) }),
      encodePng({ width: 9, height: 9, colorType: 3, bitDepth: 2, samples: randomSamples(81, 2, 13), palette: [9, 80, 200, 255, 0, 0, 0, 255, 0, 40, 40, 40] }),
    ];
    const items = tex.map((png, i) => ({ abs: join(dir, `tex${i}.png`) }));
    tex.forEach((png, i) => writeFileSync(items[i]!.abs, png));
    items.push({ abs: join(dir, "tex.jpg") }, { abs: join(dir, "tex-interlaced.png") });
    await sharp(tex[0]).flatten().jpeg().toFile(items[3]!.abs);
    await sharp(tex[0]).png({ progressive: true }).toFile(items[4]!.abs);
    const all = [...items, ...items];
    const run = async (threads: number, colorMode: "rgb" | "grayscale", cacheBytes: number): Promise<{ x: number[][]; shared: boolean[] }> => {
      const prevThreads = configureDecodeThreads({ threads });
      const prevCache = configurePixelCache({ maxBytes: cacheBytes });
      clearPixelCache();
      try {
        const x: number[][] = [], shared: boolean[] = [];
        for (const epoch of [0, 1]) // epoch 1 comes from the pixel cache when it is on
          for await (const b of batches(all, { ...base, size: [14, 10], colorMode, preprocessing: "tf", batchSize: 3, reuseBuffers: true, augment: { cfg: AUG, seed: 5, epoch } }))
            x.push([...b.x]), shared.push(b.x.buffer instanceof SharedArrayBuffer);
        return { x, shared };
      } finally {
        configurePixelCache(prevCache);
        configureDecodeThreads(prevThreads);
        clearPixelCache();
      }
    };
    for (const colorMode of ["rgb", "grayscale"] as const)
      for (const cacheBytes of [0, 2 ** 20]) {
        const here = await run(0, colorMode, cacheBytes);
        const workers = await run(2, colorMode, cacheBytes);
        assert.ok(here.shared.every((s) => !s) && workers.shared.every((s) => s), "shared memory exactly when there are workers");
        assert.deepEqual(workers.x, here.x, `${colorMode}, cache ${cacheBytes}`);
      }
  });

  it("handles an empty list", async () => {
    assert.deepEqual(await collect([]), []);
  });
});
