import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { grayToRgb, toFloatInput } from "../../src/data/preprocess";
import { useResizeWasm } from "../../src/data/resize";

const close = (actual: Float32Array, expected: number[]): void => {
  assert.equal(actual.length, expected.length);
  expected.forEach((e, i) => assert.ok(Math.abs(actual[i]! - e) < 1e-4, `[${i}] ${actual[i]} != ${e}`));
};

describe("toFloatInput", () => {
  const px = new Uint8Array([0, 127.5 | 0, 255, 10, 20, 30]);

  it("tf: x / 127.5 - 1", () => {
    const out = new Float32Array(6);
    toFloatInput(px, out, 0, "tf", 3);
    close(out, [-1, 127 / 127.5 - 1, 1, 10 / 127.5 - 1, 20 / 127.5 - 1, 30 / 127.5 - 1]);
  });

  it("tf gives exactly the float32 of x / 127.5 - 1 for every byte value, in WebAssembly and in JS", () => {
    const all = Uint8Array.from({ length: 256 * 3 }, (_, i) => i % 256);
    const wasOn = useResizeWasm(true);
    try {
      assert.ok(useResizeWasm(true), "the module loads on this Node");
      for (const wasm of [true, false]) {
        useResizeWasm(wasm);
        const out = new Float32Array(all.length);
        toFloatInput(all, out, 0, "tf", 3);
        all.forEach((v, i) => assert.equal(out[i], Math.fround(v / 127.5 - 1), `byte ${v} (${wasm ? "wasm" : "js"})`));
      }
    } finally {
      useResizeWasm(wasOn);
    }
  });

  it("writes the same floats in WebAssembly as in JS at any length and offset, into private or shared memory", () => {
    const wasOn = useResizeWasm(true);
    try {
      assert.ok(useResizeWasm(true), "the module loads on this Node");
      for (const mode of ["tf", "none"] as const)
        for (const n of [1, 15, 16, 17, 48, 49_157])
          for (const shared of [false, true]) {
            const px = Uint8Array.from({ length: n }, (_, i) => (i * 37 + (i >> 8)) & 255);
            const runs = [true, false].map((wasm) => {
              useResizeWasm(wasm);
              const out = new Float32Array(shared ? new SharedArrayBuffer((n + 10) * 4) : new ArrayBuffer((n + 10) * 4)).fill(-7);
              toFloatInput(px, out, 3, mode, 3);
              return Array.from(out);
            });
            assert.deepEqual(runs[0], runs[1], `${mode}, ${n} bytes, ${shared ? "shared" : "private"}`);
            assert.deepEqual([runs[0]!.slice(0, 3), runs[0]!.slice(n + 3)], [[-7, -7, -7], Array(7).fill(-7)], "nothing outside its place");
          }
    } finally {
      useResizeWasm(wasOn);
    }
  });

  it("caffe: RGB to BGR, minus the ImageNet BGR mean", () => {
    const out = new Float32Array(6);
    toFloatInput(px, out, 0, "caffe", 3);
    close(out, [255 - 103.939, 127 - 116.779, 0 - 123.68, 30 - 103.939, 20 - 116.779, 10 - 123.68]);
  });

  it("torch: x / 255, then ImageNet mean and std per channel", () => {
    const out = new Float32Array(6);
    toFloatInput(px, out, 0, "torch", 3);
    const m = [0.485, 0.456, 0.406];
    const s = [0.229, 0.224, 0.225];
    close(out, [...px].map((v, i) => (v / 255 - m[i % 3]!) / s[i % 3]!));
  });

  it("none: raw 0..255 floats, written at the offset only", () => {
    const out = new Float32Array(10).fill(-7);
    toFloatInput(px, out, 2, "none", 3);
    close(out, [-7, -7, 0, 127, 255, 10, 20, 30, -7, -7]);
    assert.throws(() => toFloatInput(px, out, 5, "none", 3), RangeError);
  });

  it("one channel uses the averaged means", () => {
    const out = new Float32Array(1);
    toFloatInput(new Uint8Array([200]), out, 0, "caffe", 1);
    close(out, [200 - (103.939 + 116.779 + 123.68) / 3]);
  });

  it("grayToRgb replicates each value three times", () => {
    assert.deepEqual([...grayToRgb(new Uint8Array([1, 2]))], [1, 1, 1, 2, 2, 2]);
  });
});
