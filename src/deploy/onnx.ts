import type * as tf from "@tensorflow/tfjs";
import { TlrunError } from "../errors";
import { traceToOnnx } from "../models/onnx/export";
import { modelProto, type OnnxGraph } from "../models/onnx/proto";
import { loadOrt, ortSession } from "../models/onnx/runtime";
import { Unsupported } from "../models/trace";
import { TLRUN_VERSION } from "../util/version";
import { classifierTrace, eagerProbabilities } from "./classifier-trace";

/** The exported graph's input and output names, and its symbolic batch dim. */
export const ONNX_INPUT = "input";
export const ONNX_OUTPUT = "probabilities";
export const BATCH_DIM = "batch";

export interface OnnxOptions {
  /** [height, width] the model takes. */
  inputSize: [number, number];
  /** The graph's name (the run's pipeline name). */
  name: string;
}

/**
 * The whole classifier as an ONNX model (opset 13): input `input` [batch, h, w, 3] float32 of
 * already preprocessed pixels (what the tfjs model takes), output `probabilities` [batch, classes],
 * for any batch size. Needs the native backend (the recording runs on it).
 */
export async function onnxModelBytes(model: tf.LayersModel, opts: OnnxOptions): Promise<Uint8Array> {
  const trace = classifierTrace(model, opts.inputSize);
  let graph: OnnxGraph;
  try {
    graph = traceToOnnx(trace);
  } catch (err) {
    if (err instanceof Unsupported) throw new TlrunError(`the model has no ONNX form here: ${err.message}`);
    throw err;
  }
  return modelProto(named(graph), { name: `tlrun ${opts.name}`.slice(0, 200), version: TLRUN_VERSION });
}

/** The converter's `x` and `y0` as `input` and `probabilities`, with a symbolic batch. */
function named(g: OnnxGraph): OnnxGraph {
  const rename = (n: string): string => (n === "x" ? ONNX_INPUT : n === "y0" ? ONNX_OUTPUT : n);
  if (g.outputs.length !== 1) throw new TlrunError(`the model has ${g.outputs.length} outputs; export takes a classifier with one`);
  return {
    ...g,
    nodes: g.nodes.map((n) => ({ ...n, inputs: n.inputs.map(rename), outputs: n.outputs.map(rename) })),
    inputs: g.inputs.map((v) => ({ ...v, name: rename(v.name), dims: [BATCH_DIM, ...v.dims.slice(1)] })),
    outputs: g.outputs.map((v) => ({ ...v, name: rename(v.name), dims: [BATCH_DIM, ...v.dims.slice(1)] })),
  };
}

/**
 * Run `bytes` on ONNX Runtime and the tfjs model eagerly on the same random batches of each size
 * in `batches`; the largest |onnx − tfjs| over all of them. What export prints and tests assert.
 */
export function onnxMaxDiff(bytes: Uint8Array, model: tf.LayersModel, inputSize: [number, number], batches: number[] = [1, 5]): number {
  const ort = loadOrt();
  if (typeof ort === "string") throw new TlrunError(`cannot check the ONNX model: ${ort}`);
  const s = ortSession(ort, bytes, 1);
  try {
    let worst = 0;
    for (const n of batches) {
      const shape: [number, number, number, number] = [n, ...inputSize, 3];
      const x = randomPixels(shape, n);
      const want = eagerProbabilities(model, x, shape);
      const got = s.run(x, shape)[0]!;
      if (got.dims[0] !== n || got.data.length !== want.length) throw new TlrunError(`the ONNX model answered [${got.dims}] for a batch of ${n}`);
      worst = Math.max(worst, maxAbsDiff(want, got.data));
    }
    return worst;
  } finally {
    s.dispose();
  }
}

/** Seeded values in -1..1 (preprocessed pixels), one batch of `shape`. */
export function randomPixels(shape: number[], seed: number): Float32Array {
  const out = new Float32Array(shape.reduce((a, b) => a * b, 1));
  let s = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < out.length; i++) {
    s ^= s << 13, s ^= s >>> 17, s ^= s << 5;
    out[i] = ((s >>> 0) / 4294967296) * 2 - 1;
  }
  return out;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
  return Number.isNaN(d) ? Infinity : d;
}
