import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Interpolation } from "../../src/config/types";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { resize, useResizeWasm } from "../../src/data/resize";

/** The kernels written out again, independently of src/data/resize.ts. */
const KERNEL: Record<Exclude<Interpolation, "nearest">, [number, (x: number) => number]> = {
  bilinear: [1, (x) => Math.max(0, 1 - Math.abs(x))],
  bicubic: [2, (x) => {
    const t = Math.abs(x);
    return t < 1 ? 1.5 * t ** 3 - 2.5 * t ** 2 + 1 : t < 2 ? -0.5 * t ** 3 + 2.5 * t ** 2 - 4 * t + 2 : 0;
  }],
  lanczos3: [3, (x) => {
    const sinc = (v: number): number => (v === 0 ? 1 : Math.sin(Math.PI * v) / (Math.PI * v));
    return Math.abs(x) < 3 ? sinc(x) * sinc(x / 3) : 0;
  }],
};

/**
 * A straightforward float resampler: every output pixel is a normalised weighted sum over every
 * source pixel along each axis, the kernel stretched by the shrink factor, no rounding until the end.
 */
function reference(src: Uint8Array, [sh, sw]: [number, number], c: number, [dh, dw]: [number, number], kernel: Interpolation): Uint8Array {
  const weights = (inSize: number, outSize: number): number[][] =>
    Array.from({ length: outSize }, (_, o) => {
      const scale = inSize / outSize;
      const centre = (o + 0.5) * scale;
      if (kernel === "nearest") return Array.from({ length: inSize }, (_, i) => (i === Math.min(inSize - 1, Math.floor(centre)) ? 1 : 0));
      const [support, f] = KERNEL[kernel];
      const stretch = Math.max(1, scale);
      const w = Array.from({ length: inSize }, (_, i) => (Math.abs(i + 0.5 - centre) < support * stretch ? f((i + 0.5 - centre) / stretch) : 0));
      const sum = w.reduce((a, b) => a + b, 0);
      return w.map((v) => v / sum);
    });
  const wy = weights(sh, dh);
  const wx = weights(sw, dw);
  const out = new Uint8Array(dh * dw * c);
  for (let y = 0; y < dh; y++)
    for (let x = 0; x < dw; x++)
      for (let k = 0; k < c; k++) {
        let v = 0;
        for (let i = 0; i < sh; i++) {
          if (wy[y]![i] === 0) continue;
          for (let j = 0; j < sw; j++) v += wy[y]![i]! * wx[x]![j]! * src[(i * sw + j) * c + k]!;
        }
        out[(y * dw + x) * c + k] = Math.min(255, Math.max(0, Math.round(v)));
      }
  return out;
}

/** A photo-like test image: smooth gradients, a hard edge and some noise. */
function image(h: number, w: number, c: number): Uint8Array {
  const px = new Uint8Array(h * w * c);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      for (let k = 0; k < c; k++) {
        const edge = x > w / 2 ? 200 : 20;
        px[(y * w + x) * c + k] = Math.min(255, (edge + ((x * 7 + y * 13 + k * 50) % 40) + ((x * y * 31 + k) % 17)) % 256);
      }
  return px;
}

function maxDiff(a: Uint8Array, b: Uint8Array): number {
  assert.equal(a.length, b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
  return d;
}

describe("resize", () => {
  const sizes: Array<[[number, number], [number, number]]> = [
    [[16, 16], [40, 40]], // enlarge 2.5x
    [[9, 14], [32, 21]], // enlarge by different factors per axis
    [[40, 40], [13, 13]], // shrink ~3x: the kernel widens
    [[30, 12], [7, 31]], // shrink one axis, enlarge the other
    [[20, 24], [20, 9]], // one axis unchanged
  ];
  for (const kernel of ["nearest", "bilinear", "bicubic", "lanczos3"] as const)
    for (const [from, to] of sizes)
      for (const c of [1, 3]) {
        it(`${kernel} ${from.join("x")} -> ${to.join("x")}, ${c} channel(s), is within 1 of a float reference`, () => {
          const src = image(from[0], from[1], c);
          assert.ok(maxDiff(resize(src, from, c, to, kernel), reference(src, from, c, to, kernel)) <= 1);
        });
      }

  it("copies exactly at the same size, for every kernel", () => {
    const src = image(17, 23, 3);
    for (const kernel of ["nearest", "bilinear", "bicubic", "lanczos3"] as const) {
      const out = resize(src, [17, 23], 3, [17, 23], kernel);
      assert.deepEqual(out, src);
      assert.notEqual(out, src, "a copy, not the input");
    }
  });

  it("antialiases when shrinking: a one-pixel checkerboard becomes flat grey", () => {
    const src = Uint8Array.from({ length: 64 * 64 }, (_, i) => (((i >> 6) + i) % 2 ? 255 : 0));
    for (const kernel of ["bilinear", "bicubic", "lanczos3"] as const) {
      const out = resize(src, [64, 64], 1, [16, 16], kernel);
      for (const v of out) assert.ok(Math.abs(v - 127.5) <= 3, `${kernel}: ${v} is not grey`);
    }
  });

  it("clamps what overshooting kernels ring past 0 and 255 at a hard edge", () => {
    const src = Uint8Array.from({ length: 8 * 8 }, (_, i) => (i % 8 < 4 ? 0 : 255));
    for (const kernel of ["bicubic", "lanczos3"] as const) {
      assert.ok(maxDiff(resize(src, [8, 8], 1, [8, 29], kernel), reference(src, [8, 8], 1, [8, 29], kernel)) <= 1, kernel);
    }
  });

  it("the WebAssembly passes give the JS passes' bytes exactly, for every kernel, channel count and size", () => {
    const cases: Array<[[number, number], [number, number]]> = [...sizes, [[64, 64], [128, 128]], [[64, 64], [224, 224]], [[61, 67], [128, 97]], [[300, 200], [128, 128]]];
    const wasOn = useResizeWasm(true);
    try {
      assert.ok(useResizeWasm(true), "the module loads on this Node");
      for (const kernel of ["nearest", "bilinear", "bicubic", "lanczos3"] as const)
        for (const [from, to] of cases)
          for (const c of [1, 2, 3, 4]) {
            const src = image(from[0], from[1], c);
            useResizeWasm(true);
            const simd = resize(src, from, c, to, kernel);
            useResizeWasm(false);
            const js = resize(src, from, c, to, kernel);
            assert.deepEqual(simd, js, `${kernel} ${from.join("x")} -> ${to.join("x")}, ${c} channel(s)`);
          }
    } finally {
      useResizeWasm(wasOn);
    }
  });

  it("resize-wasm.ts is what resize.wat compiles to", () => {
    const r = spawnSync(process.execPath, [join(__dirname, "../../../scripts/build-wasm.mjs"), "--check"], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stdout + r.stderr);
  });

  it("refuses pixels that do not match the stated size", () => {
    assert.throws(() => resize(new Uint8Array(10), [2, 2], 3, [4, 4], "bilinear"), RangeError);
  });
});
