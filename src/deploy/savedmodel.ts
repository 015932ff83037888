import type * as tf from "@tensorflow/tfjs";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { traceToGraphDef } from "../models/native-graph";
import { DT, graphDef, savedModel, type NodeDef } from "../models/protobuf";
import { classifierTrace } from "./classifier-trace";
import { ONNX_INPUT, ONNX_OUTPUT } from "./onnx";

/** The serving signature's key, as TensorFlow Serving and `tf.saved_model.load(...).signatures` expect. */
export const SIGNATURE = "serving_default";

/**
 * GraphDef producer version: libtensorflow 2.9.1's, the TensorFlow tfjs-node ran the recorded ops
 * on; newer TensorFlow reads it and fills in attributes added since.
 */
const PRODUCER = 1087;

/**
 * The whole classifier as a TensorFlow SavedModel in `dir`: one frozen graph (weights as
 * constants, BatchNorm folded) tagged `serve`, with the signature `serving_default` taking
 * `input` [-1, h, w, 3] float32 preprocessed pixels and answering `probabilities` [-1, classes].
 * There are no variables, so `variables/` is empty; TensorFlow still looks for the folder.
 */
export function writeSavedModel(dir: string, model: tf.LayersModel, inputSize: [number, number]): void {
  const trace = classifierTrace(model, inputSize);
  const [x] = trace.inputs;
  const out = trace.outputs[0]!;
  const rename = (ref: string): string => (ref === x!.ref ? ONNX_INPUT : ref);
  const nodes: NodeDef[] = traceToGraphDef({ ...trace, shapes: new Map(trace.shapes).set(x!.ref, [-1, ...inputSize, 3]) })
    .map((n) => ({ ...n, name: rename(n.name), inputs: n.inputs.map(rename) }));
  nodes.push({ name: ONNX_OUTPUT, op: "Identity", inputs: [out.ref], attrs: { T: { type: DT.float32 } } });
  const pb = savedModel(
    graphDef(nodes, PRODUCER), ["serve"], SIGNATURE,
    { [ONNX_INPUT]: { name: `${ONNX_INPUT}:0`, dtype: DT.float32, shape: [-1, ...inputSize, 3] } },
    { [ONNX_OUTPUT]: { name: `${ONNX_OUTPUT}:0`, dtype: DT.float32, shape: [-1, ...out.shape.slice(1)] } },
  );
  mkdirSync(join(dir, "variables"), { recursive: true });
  writeFileSync(join(dir, "saved_model.pb"), pb);
}
