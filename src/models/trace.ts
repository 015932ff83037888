import * as tf from "@tensorflow/tfjs";
import type { PrivateApi } from "./pins";
import type { AttrValue } from "./protobuf";

/**
 * A forward function as the TensorFlow ops tfjs-node executed for it, recorded once on a sample
 * batch. The recording is what both compilers start from: onnx/export.ts writes a frozen pass
 * as an ONNX model, native-graph.ts a training step as a TensorFlow GraphDef.
 */
export interface Trace {
  /** The function's inputs, by ref, in order: `x` for a forward pass, any names for a recorded step. */
  inputs: Array<{ ref: string; dtype: TracedDtype }>;
  /** The recorded ops in execution order. */
  nodes: TracedNode[];
  /** Inputs that no recorded op produced (the weights, shape tensors), by ref (`c0`, `c1`, …). */
  consts: Map<string, ConstValue>;
  /** Shape of every ref: each input, each constant and each op output (`n3`, `n3:1`). */
  shapes: Map<string, number[]>;
  /** The function's outputs, as refs into the recording. */
  outputs: Array<{ ref: string; dtype: TracedDtype; shape: number[] }>;
}

export type TracedDtype = "float32" | "int32" | "bool";

export interface TracedNode {
  /** `n<k>`; its outputs are `n<k>` (first) and `n<k>:<i>`. */
  name: string;
  /** TensorFlow op type, as tfjs-node ran it (`Conv2D`, `AddV2`, …). */
  op: string;
  inputs: string[];
  attrs: Record<string, AttrValue>;
  outputs: number;
}

export interface ConstValue {
  dtype: TracedDtype;
  shape: number[];
  /** Little-endian bytes of the values. */
  bytes: Uint8Array;
}

/** Why a function cannot be recorded or compiled; the caller keeps running it eagerly. */
export class Unsupported extends Error {}

interface TfjsAttr { name: string; type: number; value: unknown }
interface Binding {
  executeOp(...args: unknown[]): unknown;
  runSavedModel(...args: unknown[]): unknown;
  TF_ATTR_STRING: number; TF_ATTR_INT: number; TF_ATTR_FLOAT: number; TF_ATTR_BOOL: number; TF_ATTR_TYPE: number; TF_ATTR_SHAPE: number;
}
/** The parts of tfjs-node's backend the recorder hooks into. */
export interface NodeBackend {
  binding: Binding;
  executeSingleOutput(op: string, attrs: TfjsAttr[], inputs: tf.Tensor[]): tf.Tensor;
  executeMultipleOutputs(op: string, attrs: TfjsAttr[], inputs: tf.Tensor[], n: number): tf.Tensor[];
  readSync(dataId: object): ArrayLike<number> & ArrayBufferView;
}

/** The members of tfjs-node's backend the recorder replaces or reads (pins.ts checks them against the pinned version). */
export const TRACE_HOOK: PrivateApi = {
  pkg: "@tensorflow/tfjs-node",
  name: "private executeSingleOutput hook",
  members: {
    executeSingleOutput: "function", executeMultipleOutputs: "function", readSync: "function", binding: "object",
    "binding.executeOp": "function", "binding.runSavedModel": "function",
    ...Object.fromEntries(["STRING", "INT", "FLOAT", "BOOL", "TYPE", "SHAPE"].map((t) => [`binding.TF_ATTR_${t}`, "number" as const])),
  },
};

const DTYPES = new Set<string>(["float32", "int32", "bool"]);

function dtypeOf(t: tf.Tensor, what: string): TracedDtype {
  if (!DTYPES.has(t.dtype)) throw new Unsupported(`a ${t.dtype} ${what}`);
  return t.dtype as TracedDtype;
}

/**
 * Run `fn` once on `x` with every op the native backend executes recorded (op name, attributes,
 * inputs, shapes). Throws Unsupported when some op reached the C API without passing through the
 * recorder (a kernel of its own, or an already compiled model), or when an output is not computed.
 */
export function recordForward(backend: NodeBackend, fn: (x: tf.Tensor) => tf.Tensor[], x: tf.Tensor): Trace {
  return recordOps(backend, { x }, () => fn(x));
}

/**
 * recordForward for a function of several inputs, which it reads from the enclosing scope. A
 * tensor among `inputs` is one of the graph's inputs wherever `fn` uses it, by its data: a
 * variable is an input for as long as it holds the value it had when recording started. `fn`
 * may declare more inputs as it goes (random draws). The outputs may be tensors `fn` computed or
 * variables it assigned.
 */
export function recordOps(backend: NodeBackend, inputs: Record<string, tf.Tensor>, fn: (input: (ref: string, t: tf.Tensor) => void) => tf.Tensor[]): Trace {
  const b = backend.binding;
  const trace: Trace = { inputs: [], nodes: [], consts: new Map(), shapes: new Map(), outputs: [] };
  const refs = new Map<object, string>();
  /** `t` is the input `ref` from now on; fn may declare more, for values it makes before any op reads them. */
  const input = (ref: string, t: tf.Tensor): void => {
    if (/^[cn]\d+(:\d+)?$/.test(ref)) throw new Error(`input name ${ref} is of the form the recording gives its own nodes`);
    if (refs.has(t.dataId)) throw new Unsupported(`inputs ${refs.get(t.dataId)} and ${ref} share their data`);
    refs.set(t.dataId, ref);
    trace.inputs.push({ ref, dtype: dtypeOf(t, "input") });
    trace.shapes.set(ref, [...t.shape]);
  };
  for (const [ref, t] of Object.entries(inputs)) input(ref, t);
  const isInput = (ref: string): boolean => trace.inputs.some((i) => i.ref === ref);
  let direct = 0;

  const constant = (t: tf.Tensor): string => {
    const v = backend.readSync(t.dataId);
    const name = `c${trace.consts.size}`;
    trace.consts.set(name, { dtype: dtypeOf(t, "constant"), shape: [...t.shape], bytes: new Uint8Array(v.buffer, v.byteOffset, v.byteLength).slice() });
    trace.shapes.set(name, [...t.shape]);
    refs.set(t.dataId, name);
    return name;
  };
  const refOf = (t: tf.Tensor): string => {
    if (!(t instanceof tf.Tensor)) throw new Unsupported("an int64 scalar input");
    return refs.get(t.dataId) ?? constant(t);
  };
  const attr = (a: TfjsAttr): AttrValue => {
    const v = a.value;
    switch (a.type) {
      case b.TF_ATTR_STRING: return { s: String(v) };
      case b.TF_ATTR_INT: return Array.isArray(v) ? { list: { i: v as number[] } } : { i: v as number };
      case b.TF_ATTR_FLOAT: return Array.isArray(v) ? { list: { f: v as number[] } } : { f: v as number };
      case b.TF_ATTR_BOOL: return Array.isArray(v) ? { list: { b: v as boolean[] } } : { b: v as boolean };
      case b.TF_ATTR_TYPE: return { type: v as number };
      case b.TF_ATTR_SHAPE: return { shape: v as number[] };
      default: throw new Unsupported(`attribute ${a.name} of type ${a.type}`);
    }
  };
  const record = (op: string, attrs: TfjsAttr[], inputs: tf.Tensor[], outs: tf.Tensor[]): void => {
    const name = `n${trace.nodes.length}`;
    const ins = inputs.map(refOf);
    trace.nodes.push({ name, op, inputs: ins, attrs: Object.fromEntries(attrs.map((a) => [a.name, attr(a)])), outputs: outs.length });
    outs.forEach((t, i) => {
      const ref = i === 0 ? name : `${name}:${i}`;
      refs.set(t.dataId, ref);
      trace.shapes.set(ref, [...t.shape]);
    });
  };

  const single = backend.executeSingleOutput;
  const multi = backend.executeMultipleOutputs;
  // The binding's own properties are read-only, so a shadowing object stands in for it meanwhile.
  const counting = Object.create(b, {
    executeOp: { value: (...args: unknown[]) => (direct++, b.executeOp(...args)) },
    // An already compiled model called inside `fn` would run as one opaque session call.
    runSavedModel: { value: (...args: unknown[]) => (direct++, b.runSavedModel(...args)) },
  }) as Binding;
  backend.executeSingleOutput = function (op, attrs, inputs) {
    const out = single.call(this, op, attrs, inputs);
    direct--;
    record(op, attrs, inputs, [out]);
    return out;
  };
  backend.executeMultipleOutputs = function (op, attrs, inputs, n) {
    const outs = multi.call(this, op, attrs, inputs, n);
    direct--;
    record(op, attrs, inputs, outs);
    return outs;
  };
  backend.binding = counting;
  try {
    tf.tidy(() => {
      const outs = fn(input);
      // A kernel that called the C API without going through the two methods above left no record.
      if (direct !== 0) throw new Unsupported(`${direct} op(s) ran outside the recorder`);
      trace.outputs = outs.map((t, i) => {
        const ref = refs.get(t.dataId);
        if (ref === undefined || isInput(ref) || trace.consts.has(ref)) throw new Unsupported(`output ${i} is not computed by an op`);
        return { ref, dtype: dtypeOf(t, "output"), shape: [...t.shape] };
      });
    });
    return trace;
  } finally {
    backend.executeSingleOutput = single;
    backend.executeMultipleOutputs = multi;
    backend.binding = b;
  }
}

/** The tfjs-node backend when it is the one in use, for recording; otherwise why not. */
export function nativeBackend(): NodeBackend | string {
  if (tf.getBackend() !== "tensorflow") return `backend ${tf.getBackend()}`;
  return tf.backend() as unknown as NodeBackend;
}

/** Record `fn` on a seeded random batch of `inputShape`, disposing the sample. */
export function recordOnSample(backend: NodeBackend, fn: (x: tf.Tensor) => tf.Tensor[], inputShape: number[]): Trace {
  const sample = tf.randomUniform(inputShape, -1, 1, "float32", 1);
  try {
    return recordForward(backend, fn, sample);
  } finally {
    sample.dispose();
  }
}

/** max |graph − eager| / max |eager| over all outputs; Unsupported when shapes differ. */
export function relativeError(eager: tf.Tensor[], compiled: tf.Tensor[]): number {
  eager.forEach((e, i) => {
    const g = compiled[i]!;
    if (g.shape.join() !== e.shape.join()) throw new Unsupported(`output ${i} has shape [${g.shape}] compiled, [${e.shape}] eagerly`);
  });
  return hostRelativeError(eager.map((t) => t.dataSync()), compiled.map((t) => t.dataSync()));
}

/**
 * relativeError on host arrays, output by output: max |got − want| / max |want| (the scale at
 * least 1e-6). Infinity when an output is missing or of another length; NaN anywhere gives NaN.
 */
export function hostRelativeError(want: ArrayLike<number>[], got: ArrayLike<number>[]): number {
  let worst = 0;
  want.forEach((w, i) => {
    const g = got[i];
    if (!g || g.length !== w.length) {
      worst = Infinity;
      return;
    }
    let scale = 1e-6;
    let diff = 0;
    for (let j = 0; j < w.length; j++) {
      scale = Math.max(scale, Math.abs(w[j]!));
      diff = Math.max(diff, Math.abs(w[j]! - g[j]!));
    }
    worst = Math.max(worst, diff / scale);
  });
  return worst;
}
