import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { AugmentConfig } from "../../src/config/types";
import { IDENTITY_AUGMENT, applyAugment, augmentInto, sampleAugment, type AugmentParams } from "../../src/data/augment";
import { toFloatInput, type PreprocessMode } from "../../src/data/preprocess";
import { useResizeWasm } from "../../src/data/resize";
import { Rng } from "../../src/util/rng";

const CFG: AugmentConfig = {
  horizontal_flip: true, vertical_flip: false, rotation: 20, zoom: 0.1, shift: 0.1, brightness: 0.2, contrast: 0.2, feature_copies: 1, fine_tune_views: 0,
};
const OFF: AugmentConfig = { ...CFG, horizontal_flip: false, rotation: 0, zoom: 0, shift: 0, brightness: 0, contrast: 0 };

function image(h: number, w: number, c: number): Uint8Array {
  const px = new Uint8Array(h * w * c);
  for (let i = 0; i < px.length; i++) px[i] = (i * 37 + (i >> 4)) % 256;
  return px;
}
const params = (p: Partial<AugmentParams>): AugmentParams => ({ ...IDENTITY_AUGMENT, ...p });

describe("augment", () => {
  it("returns identical pixels (in a new buffer) for identity params and for an all-off config", () => {
    const px = image(16, 12, 3);
    const out = applyAugment(px, 16, 12, 3, params({}));
    assert.deepEqual(out, px);
    assert.notEqual(out, px);
    assert.deepEqual(sampleAugment(new Rng(1), OFF), params({}));
  });

  it("is deterministic for a seed and differs across seeds", () => {
    const px = image(32, 32, 3);
    const run = (seed: number): Uint8Array => applyAugment(px, 32, 32, 3, sampleAugment(new Rng(seed), CFG));
    assert.deepEqual(run(5), run(5));
    assert.notDeepEqual(run(5), run(6));
  });

  it("keeps draws aligned whatever is switched off", () => {
    const a = new Rng(9);
    const b = new Rng(9);
    sampleAugment(a, CFG);
    sampleAugment(b, OFF);
    assert.equal(a.next(), b.next());
  });

  it("flips exactly", () => {
    const px = image(3, 4, 1);
    const h = applyAugment(px, 3, 4, 1, params({ flipH: true }));
    const v = applyAugment(px, 3, 4, 1, params({ flipV: true }));
    for (let y = 0; y < 3; y++) {
      for (let x = 0; x < 4; x++) {
        assert.equal(h[y * 4 + x], px[y * 4 + (3 - x)]);
        assert.equal(v[y * 4 + x], px[(2 - y) * 4 + x]);
      }
    }
  });

  it("rotates 90 degrees exactly on a square image, and shifts with nearest-edge fill", () => {
    const px = image(5, 5, 1);
    const r = applyAugment(px, 5, 5, 1, params({ theta: Math.PI / 2 }));
    // Output (x, y) samples source (2 - (y - 2), 2 + (x - 2)) = (4 - y, x).
    for (let y = 0; y < 5; y++) for (let x = 0; x < 5; x++) assert.equal(r[y * 5 + x], px[x * 5 + (4 - y)]);
    const s = applyAugment(px, 5, 5, 1, params({ tx: 0.4 })); // source x = x + 2
    for (let y = 0; y < 5; y++) for (let x = 0; x < 5; x++) assert.equal(s[y * 5 + x], px[y * 5 + Math.min(4, x + 2)]);
  });

  it("scales brightness and contrast and clamps to 0..255", () => {
    const px = new Uint8Array([0, 100, 200, 250]);
    assert.deepEqual([...applyAugment(px, 2, 2, 1, params({ brightness: 1.2 }))], [0, 120, 240, 255]);
    // mean 137.5; contrast 0.5 pulls values halfway to the mean
    assert.deepEqual([...applyAugment(px, 2, 2, 1, params({ contrast: 0.5 }))], [69, 119, 169, 194]);
  });

  it("is fast enough: 128x128x3 well under a few ms per image", () => {
    const px = image(128, 128, 3);
    const rng = new Rng(1);
    const n = 300;
    for (let i = 0; i < 20; i++) applyAugment(px, 128, 128, 3, sampleAugment(rng, CFG));
    const t = performance.now();
    for (let i = 0; i < n; i++) applyAugment(px, 128, 128, 3, sampleAugment(rng, CFG));
    const ms = (performance.now() - t) / n;
    console.log(`# augment 128x128x3: ${ms.toFixed(3)} ms/image`);
    assert.ok(ms < 5, `${ms} ms/image`);
  });

  it("augmentInto writes exactly the floats of applyAugment then toFloatInput, for every mode and kind of draw", () => {
    const h = 23, w = 17;
    const px = new Uint8Array(h * w * 3);
    const r = new Rng(3);
    for (let i = 0; i < px.length; i++) px[i] = Math.floor(r.next() * 256);
    const draws: AugmentParams[] = [
      params({}),
      params({ brightness: 1.3 }),
      params({ brightness: 0.7, contrast: 1.4 }),
      params({ theta: 0.3, zx: 1.1, zy: 0.9, tx: 0.1, ty: -0.2 }),
      params({ theta: -0.2, flipH: true, brightness: 1.2 }),
      params({ flipV: true, zx: 0.8, brightness: 1.25, contrast: 0.6 }),
      ...Array.from({ length: 20 }, (_, s) => sampleAugment(new Rng(100 + s), CFG)),
    ];
    const wasOn = useResizeWasm(true);
    try {
      for (const wasm of [true, false]) {
        useResizeWasm(wasm);
        for (const mode of ["tf", "caffe", "torch", "none"] as PreprocessMode[]) {
          for (const p of draws) {
            const want = new Float32Array(h * w * 3 + 5);
            toFloatInput(applyAugment(px, h, w, 3, p), want, 5, mode, 3);
            const got = new Float32Array(h * w * 3 + 5);
            augmentInto(px, h, w, p, got, 5, mode);
            assert.deepEqual(got, want, `${wasm ? "wasm" : "js"} ${mode} ${JSON.stringify(p)}`);
          }
        }
      }
    } finally {
      useResizeWasm(wasOn);
    }
    assert.throws(() => augmentInto(px, h, w, params({}), new Float32Array(10), 0, "tf"), RangeError);
  });

  it("warps to the same bytes and floats in WebAssembly as in JS, for odd sizes, flips and samples far outside", () => {
    const wasOn = useResizeWasm(true);
    assert.ok(useResizeWasm(true), "the module loads on this Node");
    try {
      const r = new Rng(8);
      const draws: AugmentParams[] = [
        params({ theta: Math.PI / 2 }),
        params({ theta: 2.5, zx: 1.7, zy: 0.4, tx: 0.9, ty: -1.3 }), // much of it off the image: edge fill
        params({ flipH: true, flipV: true, zx: 0.5 }),
        ...Array.from({ length: 30 }, (_, s) => sampleAugment(new Rng(200 + s), { ...CFG, vertical_flip: true, rotation: 180, zoom: 0.5, shift: 0.5 })),
      ];
      for (const [h, w] of [[1, 1], [2, 3], [5, 4], [7, 9], [16, 13], [31, 64]] as const) {
        const px = new Uint8Array(h * w * 3);
        for (let i = 0; i < px.length; i++) px[i] = Math.floor(r.next() * 256);
        for (const p of draws) {
          const g = { ...p, brightness: 1, contrast: 1 };
          const run = (wasm: boolean) => {
            useResizeWasm(wasm);
            const floats = new Float32Array(h * w * 3 + 2);
            augmentInto(px, h, w, { ...p, contrast: 1 }, floats, 2, "caffe");
            return { bytes: applyAugment(px, h, w, 3, g), floats };
          };
          const js = run(false);
          const wasm = run(true);
          assert.deepEqual(wasm.bytes, js.bytes, `${h}x${w} ${JSON.stringify(p)}`);
          assert.deepEqual(wasm.floats, js.floats, `${h}x${w} floats ${JSON.stringify(p)}`);
        }
      }
    } finally {
      useResizeWasm(wasOn);
    }
  });
});
