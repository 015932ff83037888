import { test } from "node:test";
import assert from "node:assert/strict";
import { dynamicBatch } from "../../src/deploy/dynamic-batch";
import type { ConstValue, Trace } from "../../src/models/trace";

const ints = (v: number[]): ConstValue => ({ dtype: "int32", shape: [v.length], bytes: new Uint8Array(new Int32Array(v).buffer) });
const read = (c: ConstValue): number[] => Array.from(new Int32Array(c.bytes.slice().buffer));

/** x [b, 4, 2] -> Reshape to [1, b, 8] (tfjs' Dense) -> `op` with a constant that may follow b. */
function recording(b: number, op = "Reshape", second = [1, b, 8], out = [1, b, 8]): Trace {
  return {
    inputs: [{ ref: "x", dtype: "float32" }],
    nodes: [{ name: "n0", op, inputs: ["x", "c0"], attrs: {}, outputs: 1 }],
    consts: new Map([["c0", ints(second)]]),
    shapes: new Map([["x", [b, 4, 2]], ["c0", [3]], ["n0", out]]),
    outputs: [{ ref: "n0", dtype: "float32", shape: out }],
  };
}

test("the entry of a reshape target that follows the batch becomes -1, wherever it is", () => {
  const t = dynamicBatch(recording(3), recording(5));
  const target = t.consts.get(t.nodes[0]!.inputs[1]!)!;
  assert.deepEqual(read(target), [1, -1, 8]);
  // a -1 the recording had is spelled out, so the target keeps one -1
  const u = dynamicBatch(recording(3, "Reshape", [3, -1], [3, 8]), recording(5, "Reshape", [5, -1], [5, 8]));
  assert.deepEqual(read(u.consts.get(u.nodes[0]!.inputs[1]!)!), [-1, 8]);
});

test("a constant that follows the batch anywhere else is refused", () => {
  assert.throws(() => dynamicBatch(recording(3, "Tile"), recording(5, "Tile")), /Tile op \(n0\) holds a value that depends on the batch size/);
  assert.throws(() => dynamicBatch(recording(3, "Reshape", [3, 3]), recording(5, "Reshape", [5, 5])), /mixes the batch with other axes/);
  assert.throws(() => dynamicBatch(recording(3), recording(5, "Tile")), /different ops at different batch sizes/);
});
