import * as tf from "@tensorflow/tfjs";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { InferenceModel } from "./fold";
import { DT, graphDef, savedModel, tensorProto, type AttrValue, type NodeDef, type TensorInfo } from "./protobuf";

/**
 * Inference on the native backend as one TensorFlow session instead of op-by-op eager calls.
 *
 * tfjs-node runs every op eagerly through the TF C API: no op fusion, and a round trip through
 * JS per op. Here a forward function is run once on a sample batch while every op the backend
 * executes is recorded (op name, attributes, inputs). The recording becomes a GraphDef whose
 * inputs that no recorded op produced (the weights) are constants, saved as a SavedModel and
 * loaded with `tf.node.loadSavedModel`. TensorFlow's graph optimizer then fuses conv + bias +
 * ReLU6, folds constants and runs the graph on its own thread pool.
 *
 * The graph is checked against the eager function on a second, different input before use, so
 * a trace that captured something input-dependent as a constant is caught and refused.
 */
export interface CompiledForward {
  /** Outputs for `x` ([n, ...] with n ≤ batch; a short batch is padded and the outputs cut back). */
  run(x: tf.Tensor): tf.Tensor[];
  /** The batch size the graph was traced at. */
  readonly batch: number;
  /** Ops in the recorded graph (not counting constants). */
  readonly ops: number;
  /** max |graph − eager| / max |eager| on the check input. */
  readonly checkError: number;
  dispose(): void;
}

export type CompileResult = { ok: true; forward: CompiledForward } | { ok: false; reason: string };

interface TfjsAttr { name: string; type: number; value: unknown }
interface Binding {
  executeOp(...args: unknown[]): unknown;
  runSavedModel(...args: unknown[]): unknown;
  TF_ATTR_STRING: number; TF_ATTR_INT: number; TF_ATTR_FLOAT: number; TF_ATTR_BOOL: number; TF_ATTR_TYPE: number; TF_ATTR_SHAPE: number;
}
interface NodeBackend {
  binding: Binding;
  executeSingleOutput(op: string, attrs: TfjsAttr[], inputs: tf.Tensor[]): tf.Tensor;
  executeMultipleOutputs(op: string, attrs: TfjsAttr[], inputs: tf.Tensor[], n: number): tf.Tensor[];
  readSync(dataId: object): ArrayLike<number> & ArrayBufferView;
}
interface TFSavedModel { predict(x: tf.Tensor): tf.Tensor | tf.Tensor[]; dispose(): void }

/** Relative tolerance of the graph against the eager function (float reassociation in fused kernels). */
const CHECK_TOLERANCE = 1e-3;
/** GraphDef producer version: TF_GRAPH_DEF_VERSION of libtensorflow 2.9.1, which tfjs-node 4.22 is built against. */
const PRODUCER = 1087;

class Unsupported extends Error {}

/** The native backend's op recorder while `fn` runs once on `x`. */
function trace(backend: NodeBackend, fn: (x: tf.Tensor) => tf.Tensor[], x: tf.Tensor): { nodes: NodeDef[]; outputs: TensorInfo[]; ops: number } {
  const b = backend.binding;
  const nodes: NodeDef[] = [];
  const refs = new Map<object, string>([[x.dataId, "x"]]);
  let consts = 0;
  let ops = 0;
  let direct = 0;

  const constant = (t: tf.Tensor): string => {
    const dtype = DT[t.dtype as keyof typeof DT];
    if (dtype === undefined) throw new Unsupported(`a ${t.dtype} constant`);
    const v = backend.readSync(t.dataId);
    const name = `c${consts++}`;
    nodes.push({ name, op: "Const", inputs: [], attrs: { dtype: { type: dtype }, value: { tensor: tensorProto(dtype, t.shape, new Uint8Array(v.buffer, v.byteOffset, v.byteLength)) } } });
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
    ops++;
    const name = `n${nodes.length}`;
    const ins = inputs.map(refOf);
    const node: NodeDef = { name, op, inputs: ins, attrs: Object.fromEntries(attrs.map((a) => [a.name, attr(a)])) };
    // x + bias with a per-channel constant becomes BiasAdd, the pattern TF fuses into the conv before it.
    const [a0, a1] = inputs;
    if ((op === "AddV2" || op === "Add") && a0 && a1 && a0.rank >= 2 && a1.rank === 1 && ins[1]!.startsWith("c") && a1.shape[0] === a0.shape[a0.rank - 1]) {
      node.op = "BiasAdd";
      node.attrs = { T: node.attrs.T!, data_format: { s: "NHWC" } };
    }
    nodes.push(node);
    outs.forEach((t, i) => refs.set(t.dataId, i === 0 ? name : `${name}:${i}`));
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
    let result: { nodes: NodeDef[]; outputs: TensorInfo[]; ops: number } | undefined;
    tf.tidy(() => {
      const outs = fn(x);
      // A kernel that called the C API without going through the two methods above left no record.
      if (direct !== 0) throw new Unsupported(`${direct} op(s) ran outside the recorder`);
      const outputs = outs.map((t, i) => {
        const ref = refs.get(t.dataId);
        if (ref === undefined || ref === "x" || ref.startsWith("c")) throw new Unsupported(`output ${i} is not computed by an op`);
        const dtype = DT[t.dtype as keyof typeof DT];
        if (dtype === undefined) throw new Unsupported(`a ${t.dtype} output`);
        return { name: ref.includes(":") ? ref : `${ref}:0`, dtype, shape: t.shape };
      });
      result = { nodes, outputs, ops };
    });
    return result!;
  } finally {
    backend.executeSingleOutput = single;
    backend.executeMultipleOutputs = multi;
    backend.binding = b;
  }
}

function relError(eager: tf.Tensor[], graph: tf.Tensor[]): number {
  return tf.tidy(() => {
    let worst = 0;
    eager.forEach((e, i) => {
      const g = graph[i]!;
      if (g.shape.join() !== e.shape.join()) throw new Unsupported(`output ${i} has shape [${g.shape}] in the graph, [${e.shape}] eagerly`);
      const scale = Math.max(1e-6, tf.max(tf.abs(e)).dataSync()[0]!);
      worst = Math.max(worst, tf.max(tf.abs(tf.sub(e, g))).dataSync()[0]! / scale);
    });
    return worst;
  });
}

/**
 * Compile `fn` (a pure function of one float32 batch of `inputShape`, whose first dim is the batch)
 * into a TensorFlow session. Returns why not when the native backend is not in use, when
 * TLRUN_NATIVE_GRAPH=0, or when the recorded graph cannot be built, loaded or does not match `fn`;
 * the caller then keeps running `fn` eagerly.
 */
export async function compileNative(fn: (x: tf.Tensor) => tf.Tensor[], inputShape: number[]): Promise<CompileResult> {
  if (tf.getBackend() !== "tensorflow") return { ok: false, reason: `backend ${tf.getBackend()}` };
  if (process.env.TLRUN_NATIVE_GRAPH === "0") return { ok: false, reason: "TLRUN_NATIVE_GRAPH=0" };
  const backend = tf.backend() as unknown as NodeBackend;
  let dir: string | undefined;
  let model: TFSavedModel | undefined;
  try {
    dir = mkdtempSync(join(tmpdir(), "tlrun-graph-"));
    const sample = tf.randomUniform(inputShape, -1, 1, "float32", 1);
    let recorded: ReturnType<typeof trace>;
    try {
      recorded = trace(backend, fn, sample);
    } finally {
      sample.dispose();
    }
    const placeholder: NodeDef = { name: "x", op: "Placeholder", inputs: [], attrs: { dtype: { type: DT.float32 }, shape: { shape: inputShape } } };
    const graph = graphDef([placeholder, ...recorded.nodes], PRODUCER);
    const outputs = Object.fromEntries(recorded.outputs.map((o, i) => [`y${i}`, o]));
    writeFileSync(join(dir, "saved_model.pb"), savedModel(graph, ["serve"], "serving_default", { x: { name: "x:0", dtype: DT.float32, shape: inputShape } }, outputs));
    const node = require("@tensorflow/tfjs-node") as { node: { loadSavedModel(dir: string, tags: string[], sig: string): Promise<TFSavedModel> } };
    const loaded = (model = await node.node.loadSavedModel(dir, ["serve"], "serving_default"));
    const keys = Object.keys(outputs);
    // predict returns a map for several outputs; keep them in the traced order.
    const call = (x: tf.Tensor): tf.Tensor[] => {
      const r = loaded.predict(x) as tf.Tensor | tf.Tensor[] | Record<string, tf.Tensor>;
      if (r instanceof tf.Tensor) return [r];
      if (Array.isArray(r)) return r;
      return keys.map((k) => r[k]!);
    };
    const check = tf.randomUniform(inputShape, -2, 2, "float32", 7);
    let checkError: number;
    try {
      const eager = tf.tidy(() => fn(check));
      const got = call(check);
      try {
        checkError = relError(eager, got);
      } finally {
        tf.dispose([...eager, ...got]);
      }
    } finally {
      check.dispose();
    }
    if (!(checkError <= CHECK_TOLERANCE)) throw new Unsupported(`graph output differs from eager by ${checkError.toExponential(2)} (relative)`);
    const batch = inputShape[0]!;
    const forward: CompiledForward = {
      batch,
      ops: recorded.ops,
      checkError,
      run(x) {
        const n = x.shape[0]!;
        if (n === batch) return call(x);
        if (n > batch) throw new Error(`batch of ${n} is larger than the compiled batch ${batch}`);
        const padded = tf.tidy(() => tf.concat([x, tf.zeros([batch - n, ...x.shape.slice(1)])], 0));
        const full = call(padded);
        padded.dispose();
        const cut = full.map((t) => tf.slice(t, 0, n));
        tf.dispose(full);
        return cut;
      },
      dispose: () => loaded.dispose(),
    };
    return { ok: true, forward };
  } catch (err) {
    model?.dispose();
    const msg = err instanceof Error ? err.message.split("\n")[0]!.slice(0, 300) : String(err);
    const fs = (err as NodeJS.ErrnoException).syscall !== undefined;
    return { ok: false, reason: err instanceof Unsupported ? msg : fs ? `cannot write the graph: ${msg}` : `TensorFlow refused the graph: ${msg}` };
  } finally {
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}

/** An InferenceModel and how its forward pass runs ("tensorflow graph, N ops" or "eager: <why>"). */
export type FastInference = InferenceModel & { readonly runner: string };

/**
 * `model` (one input) compiled for batches up to `inputShape[0]` when the native backend allows
 * it; otherwise `model` itself. Larger batches run in chunks. Disposing the result disposes `model`.
 */
export async function fastInference(model: InferenceModel, inputShape: number[]): Promise<FastInference> {
  const r = await compileNative((x) => model.predict(x), inputShape);
  if (!r.ok) return { predict: (x) => model.predict(x), folded: model.folded, runner: `eager: ${r.reason}`, dispose: () => model.dispose() };
  const f = r.forward;
  return {
    folded: model.folded,
    runner: `tensorflow graph, ${f.ops} ops`,
    predict(x) {
      const xs = [x].flat();
      if (xs.length !== 1) return model.predict(x);
      const t = xs[0]!;
      const n = t.shape[0]!;
      if (n <= f.batch) return f.run(t);
      const parts: tf.Tensor[][] = [];
      for (let s = 0; s < n; s += f.batch) {
        const chunk = tf.slice(t, s, Math.min(f.batch, n - s));
        parts.push(f.run(chunk));
        chunk.dispose();
      }
      const outs = parts[0]!.map((_, o) => tf.concat(parts.map((p) => p[o]!), 0));
      tf.dispose(parts.flat());
      return outs;
    },
    dispose: () => (f.dispose(), model.dispose()),
  };
}
