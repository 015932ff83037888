import { Unsupported, type ConstValue, type Trace, type TracedNode } from "../trace";
import type { AttrValue } from "../protobuf";
import { ONNX_TYPE, type OnnxAttr, type OnnxGraph, type OnnxNode } from "./proto";

/**
 * A recorded TensorFlow forward pass (trace.ts) as an ONNX graph for ONNX Runtime.
 *
 * TensorFlow's ops here are NHWC; ONNX's convolutions and pools are NCHW. Rather than wrap every
 * conv in a pair of transposes, each 4-D value remembers whether it is held as NCHW, ops that
 * do not care about layout (elementwise, activations) keep it, ops with axes (concat, pad,
 * reduce, slice) get their axes mapped, and a transpose is inserted only where an op needs the
 * TensorFlow layout (reshape, matmul, the graph outputs). Constants are rearranged here rather
 * than transposed at run time. Any op not listed below is refused with its name, and the caller
 * falls back to the next engine.
 */
export function traceToOnnx(trace: Trace): OnnxGraph {
  return new Converter(trace).run();
}

interface Value {
  name: string;
  /** TensorFlow's shape of the value (NHWC for 4-D). */
  shape: number[];
  /** A 4-D value held transposed to NCHW. */
  nchw: boolean;
}

/** NHWC axis -> NCHW axis. */
const TO_NCHW_AXIS = [0, 2, 3, 1] as const;
const NHWC_TO_NCHW = [0, 3, 1, 2] as const;
const NCHW_TO_NHWC = [0, 2, 3, 1] as const;
const INT64_MAX = 2n ** 63n - 1n;

const UNARY: Record<string, string> = {
  Relu: "Relu", Sigmoid: "Sigmoid", Tanh: "Tanh", Elu: "Elu", Selu: "Selu", Sqrt: "Sqrt", Neg: "Neg", Exp: "Exp",
  Log: "Log", Abs: "Abs", Softplus: "Softplus", Erf: "Erf", Floor: "Floor", Ceil: "Ceil", Reciprocal: "Reciprocal",
  Identity: "Identity", Sign: "Sign",
};
const BINARY: Record<string, string> = {
  Add: "Add", AddV2: "Add", BiasAdd: "Add", Sub: "Sub", Mul: "Mul", RealDiv: "Div", Maximum: "Max", Minimum: "Min", Pow: "Pow",
};
const REDUCE: Record<string, string> = { Mean: "ReduceMean", Max: "ReduceMax", Min: "ReduceMin", Sum: "ReduceSum", Prod: "ReduceProd" };
const POOL: Record<string, string> = { MaxPool: "MaxPool", AvgPool: "AveragePool" };

class Converter {
  private readonly nodes: OnnxNode[] = [];
  private readonly graph: OnnxGraph = { nodes: this.nodes, initializers: [], inputs: [], outputs: [] };
  private readonly values = new Map<string, Value>();
  /** Converted forms of a value or constant (`ref|nchw`, `ref|plain`, `ref|b4`), made once. */
  private readonly memo = new Map<string, string>();
  /** How many ops read each ref, to know when a conv's bias add can be absorbed. */
  private readonly readers = new Map<string, number>();
  /** Conv nodes by their output, while their bias input is still free. */
  private readonly convs = new Map<string, OnnxNode>();
  /** The ops that read each ref. */
  private readonly consumers = new Map<string, TracedNode[]>();
  /** Zero pads left for the MaxPool that reads them (see maxPoolAfterZeroPad). */
  private readonly deferredPads = new Map<string, TracedNode>();
  private fresh = 0;

  constructor(private readonly trace: Trace) {
    for (const n of trace.nodes) {
      for (const i of n.inputs) {
        this.readers.set(i, (this.readers.get(i) ?? 0) + 1);
        this.consumers.set(i, [...(this.consumers.get(i) ?? []), n]);
      }
    }
    for (const o of trace.outputs) this.readers.set(o.ref, (this.readers.get(o.ref) ?? 0) + 1);
  }

  run(): OnnxGraph {
    const xShape = this.trace.shapes.get("x")!;
    this.values.set("x", { name: "x", shape: xShape, nchw: false });
    this.graph.inputs.push({ name: "x", dtype: ONNX_TYPE.float32, dims: xShape });
    for (const n of this.trace.nodes) this.convert(n);
    this.trace.outputs.forEach((o, i) => {
      const name = `y${i}`;
      this.emit("Identity", [this.plain(o.ref)], undefined, name);
      this.graph.outputs.push({ name, dtype: ONNX_TYPE[o.dtype], dims: o.shape });
    });
    return this.graph;
  }

  // ---- building blocks ------------------------------------------------------------------

  private emit(op: string, inputs: string[], attrs?: Record<string, OnnxAttr>, out?: string): string {
    const name = out ?? `t${this.fresh++}`;
    this.nodes.push({ op, inputs, outputs: [name], attrs });
    return name;
  }

  private initializer(dtype: number, dims: readonly number[], raw: Uint8Array): string {
    const name = `w${this.graph.initializers.length}`;
    this.graph.initializers.push({ name, dtype, dims, raw });
    return name;
  }

  private int64s(values: ReadonlyArray<number | bigint>): string {
    const a = new BigInt64Array(values.map((v) => BigInt(v)));
    return this.initializer(ONNX_TYPE.int64, [a.length], new Uint8Array(a.buffer));
  }

  private floatScalar(v: number): string {
    return this.once(`scalar|${v}`, () => this.initializer(ONNX_TYPE.float32, [], new Uint8Array(new Float32Array([v]).buffer)));
  }

  private once(key: string, make: () => string): string {
    let name = this.memo.get(key);
    if (name === undefined) this.memo.set(key, (name = make()));
    return name;
  }

  private shape(ref: string): number[] {
    const s = this.trace.shapes.get(ref);
    if (!s) throw new Unsupported(`no shape recorded for ${ref}`);
    return s;
  }

  private constOf(ref: string): ConstValue | undefined {
    return this.trace.consts.get(ref);
  }

  /** The integer values of a constant operand (axes, paddings, shapes). */
  private ints(ref: string, what: string): number[] {
    const c = this.constOf(ref);
    if (!c || c.dtype !== "int32") throw new Unsupported(`${what} that is not an int32 constant`);
    return Array.from(new Int32Array(c.bytes.buffer, c.bytes.byteOffset, c.bytes.byteLength / 4));
  }

  private floats(ref: string, what: string): { data: Float32Array; shape: number[] } {
    const c = this.constOf(ref);
    if (!c || c.dtype !== "float32") throw new Unsupported(`${what} that is not a float32 constant`);
    return { data: new Float32Array(c.bytes.buffer, c.bytes.byteOffset, c.bytes.byteLength / 4), shape: c.shape };
  }

  /** A ref in TensorFlow's own layout. */
  private plain(ref: string): string {
    const c = this.constOf(ref);
    if (c) return this.once(`${ref}|plain`, () => this.initializer(ONNX_TYPE[c.dtype], c.shape, c.bytes));
    const v = this.value(ref);
    if (!v.nchw) return v.name;
    return this.once(`${ref}|plain`, () => this.emit("Transpose", [v.name], { perm: { ints: NCHW_TO_NHWC } }));
  }

  /** A 4-D ref as NCHW. */
  private nchw(ref: string): string {
    const c = this.constOf(ref);
    if (c) {
      if (c.shape.length !== 4 || c.dtype !== "float32") throw new Unsupported(`a ${c.dtype} constant of rank ${c.shape.length} where NCHW is needed`);
      return this.once(`${ref}|nchw`, () => {
        const t = transpose(this.floats(ref, "a tensor"), NHWC_TO_NCHW);
        return this.initializer(ONNX_TYPE.float32, t.shape, bytesOf(t.data));
      });
    }
    const v = this.value(ref);
    if (v.shape.length !== 4) throw new Unsupported(`a rank-${v.shape.length} value where NCHW is needed`);
    if (v.nchw) return v.name;
    return this.once(`${ref}|nchw`, () => this.emit("Transpose", [v.name], { perm: { ints: NHWC_TO_NCHW } }));
  }

  /**
   * An operand of an elementwise op whose result is 4-D and held as NCHW: TensorFlow broadcasts
   * a lower-rank operand against the trailing (NHWC) axes, so it is padded to rank 4 as NHWC
   * first and then laid out as NCHW like the rest.
   */
  private broadcast4(ref: string): string {
    const shape = this.shape(ref);
    if (shape.length === 4) return this.nchw(ref);
    if (shape.length === 0) return this.plain(ref);
    const padded = [...Array<number>(4 - shape.length).fill(1), ...shape];
    const c = this.constOf(ref);
    if (c && c.dtype === "float32") {
      return this.once(`${ref}|b4`, () => {
        const t = transpose({ data: this.floats(ref, "a tensor").data, shape: padded }, NHWC_TO_NCHW);
        return this.initializer(ONNX_TYPE.float32, t.shape, bytesOf(t.data));
      });
    }
    return this.once(`${ref}|b4`, () => {
      const nhwc = this.emit("Reshape", [this.plain(ref), this.int64s(padded)]);
      return this.emit("Transpose", [nhwc], { perm: { ints: NHWC_TO_NCHW } });
    });
  }

  private value(ref: string): Value {
    const v = this.values.get(ref);
    if (!v) throw new Unsupported(`${ref} is used before it is computed`);
    return v;
  }

  private set(ref: string, name: string, nchw: boolean): void {
    this.values.set(ref, { name, shape: this.shape(ref), nchw });
  }

  // ---- ops ------------------------------------------------------------------------------

  private convert(n: TracedNode): void {
    // Only FusedBatchNorm's first output is converted; batchNorm() refuses a reader of the others.
    if (n.outputs > 1 && !n.op.startsWith("FusedBatchNorm")) throw new Unsupported(`${n.op} with ${n.outputs} outputs`);
    const out = n.name;
    const rank = this.shape(out).length;
    const [a, b] = n.inputs;
    if (UNARY[n.op]) return this.unary(n, UNARY[n.op]!);
    if (BINARY[n.op]) return this.binary(n, BINARY[n.op]!);
    if (REDUCE[n.op]) return this.reduce(n, REDUCE[n.op]!);
    if (POOL[n.op]) return this.pool(n, POOL[n.op]!);
    switch (n.op) {
      case "Relu6":
        return this.unary(n, "Clip", [this.floatScalar(0), this.floatScalar(6)]);
      case "LeakyRelu":
        return this.unary(n, "LeakyRelu", [], { alpha: { f: num(n.attrs.alpha, 0.2) } });
      case "Rsqrt": {
        const v = this.operand(a!);
        this.set(out, this.emit("Reciprocal", [this.emit("Sqrt", [v.name])]), v.nchw);
        return;
      }
      case "Square": {
        const v = this.operand(a!);
        this.set(out, this.emit("Mul", [v.name, v.name]), v.nchw);
        return;
      }
      case "Cast": {
        const v = this.operand(a!);
        const to = n.attrs.DstT && "type" in n.attrs.DstT ? n.attrs.DstT.type : undefined;
        const from = n.attrs.SrcT && "type" in n.attrs.SrcT ? n.attrs.SrcT.type : undefined;
        if (to === from) return this.set(out, v.name, v.nchw);
        const onnxTo = to === 1 ? ONNX_TYPE.float32 : to === 3 ? ONNX_TYPE.int32 : to === 10 ? ONNX_TYPE.bool : undefined;
        if (onnxTo === undefined) throw new Unsupported(`Cast to TensorFlow type ${to}`);
        return this.set(out, this.emit("Cast", [v.name], { to: { i: onnxTo } }), v.nchw);
      }
      case "Conv2D":
        return this.conv(n, false);
      case "DepthwiseConv2dNative":
        return this.conv(n, true);
      case "ConcatV2": {
        const parts = n.inputs.slice(0, -1);
        let axis = this.ints(n.inputs[n.inputs.length - 1]!, "a concat axis")[0]!;
        if (axis < 0) axis += rank;
        if (rank === 4) return this.set(out, this.emit("Concat", parts.map((p) => this.nchw(p)), { axis: { i: TO_NCHW_AXIS[axis]! } }), true);
        return this.set(out, this.emit("Concat", parts.map((p) => this.plain(p)), { axis: { i: axis } }), false);
      }
      case "Pad":
      case "PadV2":
      case "MirrorPad":
        return this.pad(n);
      case "Reshape": {
        const shape = this.ints(b!, "a reshape target");
        if (shape.includes(0)) throw new Unsupported("Reshape to an empty shape");
        return this.set(out, this.emit("Reshape", [this.plain(a!), this.int64s(shape)]), false);
      }
      case "Slice":
        return this.slice(n);
      case "FusedBatchNorm":
      case "FusedBatchNormV2":
      case "FusedBatchNormV3":
        return this.batchNorm(n);
      case "Transpose":
        return this.set(out, this.emit("Transpose", [this.plain(a!)], { perm: { ints: this.ints(b!, "a transpose permutation") } }), false);
      case "MatMul":
      case "BatchMatMul":
      case "BatchMatMulV2": {
        const [ta, tb] = n.op === "MatMul" ? [bool(n.attrs.transpose_a), bool(n.attrs.transpose_b)] : [bool(n.attrs.adj_x), bool(n.attrs.adj_y)];
        return this.set(out, this.emit("MatMul", [this.lastTwoSwapped(a!, ta), this.lastTwoSwapped(b!, tb)]), false);
      }
      case "Tile": {
        const reps = this.ints(b!, "tile multiples");
        if (rank === 4 && this.values.get(a!)?.nchw) return this.set(out, this.emit("Tile", [this.nchw(a!), this.int64s(NHWC_TO_NCHW.map((i) => reps[i]!))]), true);
        return this.set(out, this.emit("Tile", [this.plain(a!), this.int64s(reps)]), false);
      }
      case "Squeeze": {
        const dims = n.attrs.squeeze_dims && "list" in n.attrs.squeeze_dims ? n.attrs.squeeze_dims.list.i ?? [] : [];
        const inputs = [this.plain(a!), ...(dims.length ? [this.int64s(dims)] : [])];
        return this.set(out, this.emit("Squeeze", inputs), false);
      }
      case "ExpandDims":
        return this.set(out, this.emit("Unsqueeze", [this.plain(a!), this.int64s(this.ints(b!, "an expand_dims axis"))]), false);
      case "Softmax":
        return this.set(out, this.emit("Softmax", [this.plain(a!)], { axis: { i: -1 } }), false);
      default:
        throw new Unsupported(`TensorFlow op ${n.op} has no ONNX conversion here`);
    }
  }

  /** A matmul operand in TensorFlow's layout, its last two axes swapped when `swap`. */
  private lastTwoSwapped(ref: string, swap: boolean): string {
    const x = this.plain(ref);
    if (!swap) return x;
    const r = this.shape(ref).length;
    return this.emit("Transpose", [x], { perm: { ints: [...Array.from({ length: r - 2 }, (_, i) => i), r - 1, r - 2] } });
  }

  /** A value as it is held (NCHW or not); a constant as an initializer in TensorFlow's layout. */
  private operand(ref: string): { name: string; nchw: boolean } {
    if (this.constOf(ref)) return { name: this.plain(ref), nchw: false };
    const v = this.value(ref);
    return { name: v.name, nchw: v.nchw };
  }

  private unary(n: TracedNode, op: string, extra: string[] = [], attrs?: Record<string, OnnxAttr>): void {
    const v = this.operand(n.inputs[0]!);
    this.set(n.name, this.emit(op, [v.name, ...extra], attrs), v.nchw);
  }

  private binary(n: TracedNode, op: string): void {
    const [a, b] = n.inputs as [string, string];
    const rank = this.shape(n.name).length;
    if (op === "Add" && rank === 4 && this.absorbBias(n.name, a, b)) return;
    if (rank === 4) return this.set(n.name, this.emit(op, [this.broadcast4(a), this.broadcast4(b)]), true);
    this.set(n.name, this.emit(op, [this.plain(a), this.plain(b)]), false);
  }

  /** conv(x) + per-channel constant: the constant becomes the conv's bias input. */
  private absorbBias(out: string, a: string, b: string): boolean {
    const [conv, bias] = this.convs.has(a) ? [a, b] : this.convs.has(b) ? [b, a] : [];
    if (!conv || !bias || this.readers.get(conv) !== 1) return false;
    const c = this.constOf(bias);
    const channels = this.shape(out)[3]!;
    if (!c || c.dtype !== "float32" || c.shape.reduce((p, d) => p * d, 1) !== channels || c.shape[c.shape.length - 1] !== channels) return false;
    const node = this.convs.get(conv)!;
    this.convs.delete(conv);
    node.inputs.push(this.initializer(ONNX_TYPE.float32, [channels], c.bytes));
    this.set(out, node.outputs[0]!, true);
    return true;
  }

  private conv(n: TracedNode, depthwise: boolean): void {
    const [x, w] = n.inputs as [string, string];
    requireNhwc(n);
    const filter = this.floats(w, `a ${n.op} filter`);
    const [kh, kw, ci, co] = filter.shape as [number, number, number, number];
    const inShape = this.shape(x);
    const strides = hw(n.attrs.strides, n.op), dilations = hw(n.attrs.dilations, n.op, [1, 1]);
    const pads = padsFor(n, inShape, [kh, kw], strides, dilations);
    let weights: { data: Float32Array; shape: number[] };
    if (depthwise) {
      // [kh, kw, C, M] -> [C*M, 1, kh, kw]; output channel c*M + m, as TensorFlow orders them.
      const data = new Float32Array(filter.data.length);
      for (let i = 0; i < kh; i++) for (let j = 0; j < kw; j++) for (let c = 0; c < ci; c++) for (let m = 0; m < co; m++) {
        data[(((c * co + m) * kh + i) * kw) + j] = filter.data[((i * kw + j) * ci + c) * co + m]!;
      }
      weights = { data, shape: [ci * co, 1, kh, kw] };
    } else {
      weights = transpose(filter, [3, 2, 0, 1]);
    }
    const wName = this.initializer(ONNX_TYPE.float32, weights.shape, bytesOf(weights.data));
    const attrs: Record<string, OnnxAttr> = {
      kernel_shape: { ints: [kh, kw] }, strides: { ints: strides }, dilations: { ints: dilations }, pads: { ints: pads },
      group: { i: depthwise ? ci : 1 },
    };
    const name = this.emit("Conv", [this.nchw(x), wName], attrs);
    this.convs.set(n.name, this.nodes[this.nodes.length - 1]!);
    this.set(n.name, name, true);
  }

  /** A constant-mode pad with value 0 on the two spatial axes only. */
  private isSpatialZeroPad(n: TracedNode): boolean {
    if (n.op !== "Pad" && n.op !== "PadV2") return false;
    const [x, p, value] = n.inputs as [string, string, string | undefined];
    if (this.shape(x).length !== 4 || !this.constOf(p)) return false;
    const flat = this.ints(p, "paddings");
    if (flat[0] || flat[1] || flat[6] || flat[7] || flat.some((v) => v < 0)) return false;
    if (value === undefined) return true;
    const c = this.constOf(value);
    return c?.dtype === "float32" && c.bytes.byteLength === 4 && new Float32Array(c.bytes.slice().buffer)[0] === 0;
  }

  /**
   * MaxPool of a zero-padded input. ONNX Runtime's PadFusion moves a zero Pad into a following
   * MaxPool's pads, which pad with −inf, so windows over negative values change (the same fold
   * onnxsim#290 reports). Here no Pad is emitted: the pads go into MaxPool's own (−inf) pads, and
   * a constant mask, 0 where a window reaches the zero border and −inf elsewhere, is maxed in,
   * which is exactly max over the zero-padded window.
   */
  private maxPoolAfterZeroPad(n: TracedNode, pad: TracedNode): void {
    const x = pad.inputs[0]!;
    const [, h, w] = this.shape(x) as [number, number, number];
    const flat = this.ints(pad.inputs[1]!, "paddings");
    const zero = { top: flat[2]!, bottom: flat[3]!, left: flat[4]!, right: flat[5]! };
    const k = hw(n.attrs.ksize, n.op), s = hw(n.attrs.strides, n.op);
    const padded = [1, h + zero.top + zero.bottom, w + zero.left + zero.right, 1];
    const same = padsFor(n, padded, k, s, [1, 1]);
    const pads = [zero.top + same[0]!, zero.left + same[1]!, zero.bottom + same[2]!, zero.right + same[3]!];
    if (pads.some((v, i) => v >= k[i % 2]!)) throw new Unsupported(`MaxPool of a zero pad [${pads}] as wide as its ${k.join("x")} window`);
    const [, ho, wo] = this.shape(n.name) as [number, number, number];
    // Rows/cols of the zero-padded input a window covers, in its coordinates: [i·s − same, +k).
    const touches = (i: number, stride: number, before: number, kernel: number, zeroBefore: number, size: number, total: number): boolean => {
      for (let r = i * stride - before; r < i * stride - before + kernel; r++) {
        if (r >= 0 && r < total && (r < zeroBefore || r >= zeroBefore + size)) return true;
      }
      return false;
    };
    const mask = new Float32Array(ho * wo);
    for (let i = 0; i < ho; i++) {
      const row = touches(i, s[0], same[0]!, k[0], zero.top, h, padded[1]!);
      for (let j = 0; j < wo; j++) mask[i * wo + j] = row || touches(j, s[1], same[1]!, k[1], zero.left, w, padded[2]!) ? 0 : -Infinity;
    }
    const pooled = this.emit("MaxPool", [this.nchw(x)], { kernel_shape: { ints: k }, strides: { ints: s }, pads: { ints: pads } });
    const m = this.initializer(ONNX_TYPE.float32, [1, 1, ho, wo], bytesOf(mask));
    this.set(n.name, this.emit("Max", [pooled, m]), true);
  }

  private pool(n: TracedNode, op: string): void {
    requireNhwc(n);
    const x = n.inputs[0]!;
    const pad = this.deferredPads.get(x);
    if (pad) return this.maxPoolAfterZeroPad(n, pad);
    const k = hw(n.attrs.ksize, n.op), s = hw(n.attrs.strides, n.op);
    const attrs: Record<string, OnnxAttr> = { kernel_shape: { ints: k }, strides: { ints: s }, pads: { ints: padsFor(n, this.shape(x), k, s, [1, 1]) } };
    // TensorFlow averages over the valid pixels only, as count_include_pad = 0 does.
    if (op === "AveragePool") attrs.count_include_pad = { i: 0 };
    this.set(n.name, this.emit(op, [this.nchw(x)], attrs), true);
  }

  private reduce(n: TracedNode, op: string): void {
    const [x, axesRef] = n.inputs as [string, string];
    const rank = this.shape(x).length;
    const keep = bool(n.attrs.keep_dims);
    const axes = this.ints(axesRef, `${n.op} axes`).map((a) => (a < 0 ? a + rank : a));
    if (!axes.length) throw new Unsupported(`${n.op} over no axes`);
    let input: string, onnxAxes: number[], nchw = false;
    const remaining = [0, 1, 2, 3].filter((a) => !axes.includes(a)).map((a) => TO_NCHW_AXIS[a]!);
    // A kept-dims result stays NCHW; a dropped-dims one can come from NCHW only if the axes left keep TensorFlow's order.
    if (rank === 4 && this.values.get(x)?.nchw && (keep || remaining.every((v, i) => i === 0 || v > remaining[i - 1]!))) {
      input = this.nchw(x);
      onnxAxes = axes.map((a) => TO_NCHW_AXIS[a]!);
      nchw = keep;
    } else {
      input = this.plain(x);
      onnxAxes = axes;
    }
    const name = op === "ReduceSum"
      ? this.emit(op, [input, this.int64s(onnxAxes)], { keepdims: { i: keep ? 1 : 0 } })
      : this.emit(op, [input], { axes: { ints: onnxAxes }, keepdims: { i: keep ? 1 : 0 } });
    this.set(n.name, name, nchw);
  }

  private pad(n: TracedNode): void {
    if (this.isSpatialZeroPad(n) && this.readers.get(n.name) === 1 && this.consumers.get(n.name)![0]!.op === "MaxPool") {
      this.deferredPads.set(n.name, n);
      return;
    }
    const [x, p, value] = n.inputs as [string, string, string | undefined];
    const rank = this.shape(x).length;
    const flat = this.ints(p, "paddings");
    const begin = Array.from({ length: rank }, (_, i) => flat[2 * i]!), end = Array.from({ length: rank }, (_, i) => flat[2 * i + 1]!);
    let mode = "constant";
    if (n.op === "MirrorPad") {
      const m = n.attrs.mode && "s" in n.attrs.mode ? n.attrs.mode.s : "";
      if (m !== "REFLECT") throw new Unsupported(`MirrorPad mode ${m}`);
      mode = "reflect";
    }
    const extra = value !== undefined ? [this.plain(value)] : [];
    if (rank === 4) {
      const order = NHWC_TO_NCHW;
      const pads = this.int64s([...order.map((a) => begin[a]!), ...order.map((a) => end[a]!)]);
      return this.set(n.name, this.emit("Pad", [this.nchw(x), pads, ...extra], { mode: { s: mode } }), true);
    }
    this.set(n.name, this.emit("Pad", [this.plain(x), this.int64s([...begin, ...end]), ...extra], { mode: { s: mode } }), false);
  }

  private slice(n: TracedNode): void {
    const [x, beginRef, sizeRef] = n.inputs as [string, string, string];
    const begin = this.ints(beginRef, "slice begin"), size = this.ints(sizeRef, "slice size");
    const ends = begin.map((s, i) => (size[i] === -1 ? INT64_MAX : BigInt(s + size[i]!)));
    const axes = begin.map((_, i) => i);
    if (begin.length === 4 && this.values.get(x)?.nchw) {
      const mapped = axes.map((a) => TO_NCHW_AXIS[a]!);
      return this.set(n.name, this.emit("Slice", [this.nchw(x), this.int64s(begin), this.int64s(ends), this.int64s(mapped)]), true);
    }
    this.set(n.name, this.emit("Slice", [this.plain(x), this.int64s(begin), this.int64s(ends), this.int64s(axes)]), false);
  }

  private batchNorm(n: TracedNode): void {
    if (bool(n.attrs.is_training)) throw new Unsupported(`${n.op} in training mode`);
    requireNhwc(n);
    for (let i = 1; i < n.outputs; i++) if (this.readers.get(`${n.name}:${i}`)) throw new Unsupported(`${n.op}'s output ${i} is read`);
    const [x, scale, offset, mean, variance] = n.inputs as [string, string, string, string, string];
    const epsilon = num(n.attrs.epsilon, 1e-3);
    const ins = [this.nchw(x), this.plain(scale), this.plain(offset), this.plain(mean), this.plain(variance)];
    this.set(n.name, this.emit("BatchNormalization", ins, { epsilon: { f: epsilon } }), true);
  }
}

// ---- helpers ------------------------------------------------------------------------------

function bytesOf(a: Float32Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

function bool(a: AttrValue | undefined): boolean {
  return a !== undefined && "b" in a && a.b;
}

function num(a: AttrValue | undefined, fallback: number): number {
  return a !== undefined && "f" in a ? a.f : fallback;
}

function requireNhwc(n: TracedNode): void {
  const f = n.attrs.data_format;
  if (f && "s" in f && f.s !== "NHWC") throw new Unsupported(`${n.op} with data_format ${f.s}`);
}

/** The [h, w] entries of a TensorFlow [1, h, w, 1] list attribute. */
function hw(a: AttrValue | undefined, op: string, fallback?: [number, number]): [number, number] {
  const l = a && "list" in a ? a.list.i : undefined;
  if (!l) {
    if (fallback) return fallback;
    throw new Unsupported(`${op} without strides or sizes`);
  }
  if (l.length !== 4 || l[0] !== 1 || l[3] !== 1) throw new Unsupported(`${op} with batch or channel strides [${l}]`);
  return [l[1]!, l[2]!];
}

/** ONNX pads [top, left, bottom, right] for TensorFlow's SAME / VALID / EXPLICIT padding. */
function padsFor(n: TracedNode, inShape: number[], k: [number, number], s: [number, number], d: [number, number]): number[] {
  const p = n.attrs.padding && "s" in n.attrs.padding ? n.attrs.padding.s : "VALID";
  if (p === "VALID") return [0, 0, 0, 0];
  if (p === "EXPLICIT") {
    const e = n.attrs.explicit_paddings && "list" in n.attrs.explicit_paddings ? n.attrs.explicit_paddings.list.i ?? [] : [];
    if (e.length !== 8) throw new Unsupported(`${n.op} with explicit paddings [${e}]`);
    return [e[2]!, e[4]!, e[3]!, e[5]!];
  }
  if (p !== "SAME") throw new Unsupported(`${n.op} with padding ${p}`);
  const begin: number[] = [], end: number[] = [];
  for (let i = 0; i < 2; i++) {
    const size = inShape[1 + i]!;
    const outSize = Math.ceil(size / s[i]!);
    const total = Math.max((outSize - 1) * s[i]! + (k[i]! - 1) * d[i]! + 1 - size, 0);
    begin.push(Math.floor(total / 2));
    end.push(total - Math.floor(total / 2));
  }
  return [...begin, ...end];
}

/** Transpose a dense row-major tensor by `perm`. */
export function transpose(t: { data: Float32Array; shape: readonly number[] }, perm: readonly number[]): { data: Float32Array; shape: number[] } {
  const rank = t.shape.length;
  const shape = perm.map((p) => t.shape[p]!);
  const inStrides = new Array<number>(rank);
  for (let i = rank - 1, s = 1; i >= 0; i--) (inStrides[i] = s), (s *= t.shape[i]!);
  const strides = perm.map((p) => inStrides[p]!);
  const out = new Float32Array(t.data.length);
  const idx = new Array<number>(rank).fill(0);
  for (let o = 0; o < out.length; o++) {
    let src = 0;
    for (let i = 0; i < rank; i++) src += idx[i]! * strides[i]!;
    out[o] = t.data[src]!;
    for (let i = rank - 1; i >= 0; i--) {
      if (++idx[i]! < shape[i]!) break;
      idx[i] = 0;
    }
  }
  return { data: out, shape };
}
