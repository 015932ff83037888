import * as tf from "@tensorflow/tfjs";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DT, graphDef, savedModel, tensorProto, type NodeDef } from "./protobuf";
import { Unsupported, type Trace } from "./trace";

/**
 * A recorded training step (trace.ts, training/compiled-step.ts) as one TensorFlow session: the
 * recording becomes a GraphDef whose constants carry the frozen values, saved as a SavedModel
 * and loaded with `tf.node.loadSavedModel`. TensorFlow's graph optimizer then fuses conv + bias
 * + ReLU6, folds constants and runs the graph on its own thread pool. (Frozen forward passes run
 * on ONNX Runtime instead: engine.ts.)
 */
interface TFSavedModel { predict(x: tf.Tensor | tf.NamedTensorMap): tf.Tensor | tf.Tensor[] | Record<string, tf.Tensor>; dispose(): void }

/** GraphDef producer version: TF_GRAPH_DEF_VERSION of libtensorflow 2.9.1, which tfjs-node 4.22 is built against. */
const PRODUCER = 1087;

/** The recording's nodes as NodeDefs: constants first, then the ops, with bias adds as BiasAdd. */
export function traceToGraphDef(trace: Trace): NodeDef[] {
  const nodes: NodeDef[] = trace.inputs.map(({ ref, dtype }) => ({ name: ref, op: "Placeholder", inputs: [], attrs: { dtype: { type: DT[dtype] }, shape: { shape: trace.shapes.get(ref)! } } }));
  for (const [name, c] of trace.consts) {
    const dtype = DT[c.dtype];
    nodes.push({ name, op: "Const", inputs: [], attrs: { dtype: { type: dtype }, value: { tensor: tensorProto(dtype, c.shape, c.bytes) } } });
  }
  for (const n of trace.nodes) {
    const node: NodeDef = { name: n.name, op: n.op, inputs: n.inputs, attrs: n.attrs };
    // x + bias with a per-channel constant becomes BiasAdd, the pattern TF fuses into the conv before it.
    const [a0, a1] = n.inputs.map((r) => trace.shapes.get(r)!);
    if ((n.op === "AddV2" || n.op === "Add") && a0 && a1 && a0.length >= 2 && a1.length === 1 && trace.consts.has(n.inputs[1]!) && a1[0] === a0[a0.length - 1]) {
      node.op = "BiasAdd";
      node.attrs = { T: n.attrs.T!, data_format: { s: "NHWC" } };
    }
    nodes.push(node);
  }
  return nodes;
}

/** Load `trace` as a TensorFlow session; the returned call takes its inputs in order, of the traced shapes. */
export async function tensorflowSession(trace: Trace): Promise<{ call(...xs: tf.Tensor[]): tf.Tensor[]; dispose(): void }> {
  let dir: string;
  try {
    // The temp folder is fine here: tfjs-node loads a SavedModel only from a folder, which holds
    // one training step's graph and its constants (2.7 MB for the quickstart's fine-tune step),
    // and is deleted as soon as TensorFlow has read it (the finally below), not kept for the run.
    dir = mkdtempSync(join(tmpdir(), "tlrun-graph-"));
  } catch (err) {
    throw new Unsupported(`cannot write the graph: ${(err as Error).message}`);
  }
  try {
    const outputs = Object.fromEntries(trace.outputs.map((o, i) => {
      const name = o.ref.includes(":") ? o.ref : `${o.ref}:0`;
      return [`y${i}`, { name, dtype: DT[o.dtype], shape: o.shape }];
    }));
    const graph = graphDef(traceToGraphDef(trace), PRODUCER);
    const inputs = Object.fromEntries(trace.inputs.map(({ ref, dtype }) => [ref, { name: `${ref}:0`, dtype: DT[dtype], shape: trace.shapes.get(ref)! }]));
    writeFileSync(join(dir, "saved_model.pb"), savedModel(graph, ["serve"], "serving_default", inputs, outputs));
    const node = require("@tensorflow/tfjs-node") as { node: { loadSavedModel(dir: string, tags: string[], sig: string): Promise<TFSavedModel> } };
    let loaded: TFSavedModel;
    try {
      loaded = await node.node.loadSavedModel(dir, ["serve"], "serving_default");
    } catch (err) {
      throw new Unsupported(`TensorFlow refused the graph: ${(err as Error).message.split("\n")[0]!.slice(0, 300)}`);
    }
    const keys = Object.keys(outputs);
    // predict returns a map for several outputs; keep them in the traced order.
    const names = trace.inputs.map((i) => i.ref);
    const call = (...xs: tf.Tensor[]): tf.Tensor[] => {
      if (xs.length !== names.length) throw new Error(`the graph takes ${names.length} inputs, got ${xs.length}`);
      const r = loaded.predict(xs.length === 1 ? xs[0]! : Object.fromEntries(names.map((n, i) => [n, xs[i]!])));
      if (r instanceof tf.Tensor) return [r];
      if (Array.isArray(r)) return r;
      return keys.map((k) => r[k]!);
    };
    return { call, dispose: () => loaded.dispose() };
  } catch (err) {
    // A file system failure is the machine's; anything else (the encoder) propagates as a failure to compile.
    if (err instanceof Unsupported || (err as NodeJS.ErrnoException).syscall === undefined) throw err;
    throw new Unsupported(`cannot write the graph: ${(err as Error).message.split("\n")[0]}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
