import { TlrunError } from "../errors";
import type { ConstValue, Trace } from "../models/trace";

/**
 * One recording of a forward pass made for any batch size, from two recordings of it at
 * different batch sizes. A recording spells the batch out wherever an op's shape operand holds
 * it: tfjs' Dense reshapes [B, k] to [1, B, k] for a batched matmul and back, so the batch is not
 * always the first entry, and a feature map or class count can equal it. Comparing the two
 * recordings finds exactly the entries that follow the batch: in a Reshape's target they become
 * -1, in a Slice's size too. Anything else that changed with the batch is refused.
 */
export function dynamicBatch(a: Trace, b: Trace): Trace {
  if (a.nodes.length !== b.nodes.length || a.nodes.some((n, i) => n.op !== b.nodes[i]!.op)) {
    throw new TlrunError("the model runs different ops at different batch sizes, so it cannot be exported for any batch size");
  }
  const consts = new Map(a.consts);
  const shapes = new Map(a.shapes);
  const fresh = (c: ConstValue): string => {
    let k = consts.size;
    while (consts.has(`c${k}`)) k++;
    consts.set(`c${k}`, c);
    shapes.set(`c${k}`, c.shape);
    return `c${k}`;
  };
  const nodes = a.nodes.map((n, i) => {
    const other = b.nodes[i]!;
    const inputs = n.inputs.map((ref, pos) => {
      const ca = a.consts.get(ref), cb = b.consts.get(other.inputs[pos]!);
      if (!ca || !cb || sameConst(ca, cb)) return ref;
      const shapeOperand = (n.op === "Reshape" && pos === 1) || (n.op === "Slice" && pos === 2);
      const va = int32s(ca), vb = int32s(cb);
      if (!shapeOperand || !va || !vb || va.length !== vb.length) {
        throw new TlrunError(`the model's ${n.op} op (${n.name}) holds a value that depends on the batch size, so it cannot be exported for any batch size`);
      }
      const out = a.shapes.get(n.name)!;
      const varying = va.map((v, j) => v !== vb[j]);
      if (varying.filter(Boolean).length !== 1) throw new TlrunError(`the model's ${n.op} op (${n.name}) mixes the batch with other axes`);
      // one -1 at most: a -1 the recording already had is spelled out from the traced shape
      return fresh(int32Const(va.map((v, j) => (varying[j] ? -1 : v === -1 ? out[j]! : v))));
    });
    return { ...n, inputs };
  });
  return { ...a, nodes, consts, shapes };
}

function sameConst(x: ConstValue, y: ConstValue): boolean {
  return x.dtype === y.dtype && x.shape.join() === y.shape.join() && Buffer.compare(Buffer.from(x.bytes), Buffer.from(y.bytes)) === 0;
}

function int32s(c: ConstValue): number[] | undefined {
  if (c.dtype !== "int32" || c.shape.length !== 1) return undefined;
  return Array.from(new Int32Array(c.bytes.slice().buffer));
}

function int32Const(values: number[]): ConstValue {
  return { dtype: "int32", shape: [values.length], bytes: new Uint8Array(new Int32Array(values).buffer) };
}
