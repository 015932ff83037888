/**
 * The ONNX protocol buffer messages tlrun writes, encoded by hand like the TensorFlow ones in
 * ../protobuf.ts. Field numbers follow onnx/onnx.proto (IR version 8, opset 13).
 */
import { bytes, float, int } from "../protobuf";

/** TensorProto.DataType values tlrun uses. */
export const ONNX_TYPE = { float32: 1, int32: 6, int64: 7, bool: 9 } as const;

export type OnnxAttr = { f: number } | { i: number } | { s: string } | { floats: readonly number[] } | { ints: readonly number[] };

export interface OnnxNode {
  op: string;
  inputs: string[];
  outputs: string[];
  attrs?: Record<string, OnnxAttr>;
}

export interface OnnxTensor {
  name: string;
  dtype: number;
  dims: readonly number[];
  /** Little-endian values. */
  raw: Uint8Array;
}

export interface OnnxValueInfo {
  name: string;
  dtype: number;
  /** Sizes; a string is a symbolic dim (dim_param), such as a batch of any size. */
  dims: ReadonlyArray<number | string>;
}

export interface OnnxGraph {
  nodes: OnnxNode[];
  initializers: OnnxTensor[];
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
}

export const IR_VERSION = 8;
export const OPSET = 13;

/** AttributeProto: name (1), f (2), i (3), s (4), floats (7), ints (8), type (20). */
function attribute(name: string, a: OnnxAttr): Buffer {
  const head = bytes(1, name);
  if ("f" in a) return Buffer.concat([head, float(2, a.f), int(20, 1)]);
  if ("i" in a) return Buffer.concat([head, int(3, a.i), int(20, 2)]);
  if ("s" in a) return Buffer.concat([head, bytes(4, a.s), int(20, 3)]);
  if ("floats" in a) return Buffer.concat([head, ...a.floats.map((v) => float(7, v)), int(20, 6)]);
  return Buffer.concat([head, ...a.ints.map((v) => int(8, v)), int(20, 7)]);
}

/** NodeProto: input (1), output (2), name (3), op_type (4), attribute (5). */
function node(n: OnnxNode, index: number): Buffer {
  return Buffer.concat([
    ...n.inputs.map((i) => bytes(1, i)),
    ...n.outputs.map((o) => bytes(2, o)),
    bytes(3, `${n.op}_${index}`),
    bytes(4, n.op),
    ...Object.entries(n.attrs ?? {}).map(([k, v]) => bytes(5, attribute(k, v))),
  ]);
}

/** TensorProto: dims (1), data_type (2), name (8), raw_data (9). */
function tensor(t: OnnxTensor): Buffer {
  return Buffer.concat([...t.dims.map((d) => int(1, d)), int(2, t.dtype), bytes(8, t.name), bytes(9, t.raw)]);
}

/** ValueInfoProto { name (1), type (2): TypeProto { tensor_type (1): { elem_type (1), shape (2): { dim (1): dim_value (1) | dim_param (2) } } } }. */
function valueInfo(v: OnnxValueInfo): Buffer {
  const shape = Buffer.concat(v.dims.map((d) => bytes(1, typeof d === "string" ? bytes(2, d) : int(1, d))));
  const tensorType = Buffer.concat([int(1, v.dtype), bytes(2, shape)]);
  return Buffer.concat([bytes(1, v.name), bytes(2, bytes(1, tensorType))]);
}

/** ModelProto: ir_version (1), producer_name (2), producer_version (3), graph (7), opset_import (8). */
export function modelProto(g: OnnxGraph, producer: { name: string; version: string }): Buffer {
  const graph = Buffer.concat([
    ...g.nodes.map((n, i) => bytes(1, node(n, i))),
    bytes(2, "tlrun"),
    ...g.initializers.map((t) => bytes(5, tensor(t))),
    ...g.inputs.map((v) => bytes(11, valueInfo(v))),
    ...g.outputs.map((v) => bytes(12, valueInfo(v))),
  ]);
  const opset = Buffer.concat([bytes(1, ""), int(2, OPSET)]);
  return Buffer.concat([int(1, IR_VERSION), bytes(2, producer.name), bytes(3, producer.version), bytes(7, graph), bytes(8, opset)]);
}
