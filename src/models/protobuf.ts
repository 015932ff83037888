/**
 * The few TensorFlow protocol buffer messages tlrun writes (GraphDef, SavedModel), encoded by
 * hand: field numbers follow tensorflow/core/framework/*.proto and tensorflow/core/protobuf/
 * {meta_graph,saved_model}.proto. Each function returns the encoded message body.
 */

/** Base-128 varint; negative numbers are written as 64-bit two's complement, as protobuf does for int64. */
function varint(value: number | bigint): Buffer {
  let v = BigInt(value);
  if (v < 0n) v += 1n << 64n;
  const bytes: number[] = [];
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) b |= 0x80;
    bytes.push(b);
  } while (v > 0n);
  return Buffer.from(bytes);
}

const tag = (field: number, wire: 0 | 2 | 5): Buffer => varint((field << 3) | wire);

export const int = (field: number, value: number | bigint | boolean): Buffer =>
  Buffer.concat([tag(field, 0), varint(typeof value === "boolean" ? Number(value) : value)]);

export const bytes = (field: number, payload: Buffer | Uint8Array | string): Buffer => {
  const body = typeof payload === "string" ? Buffer.from(payload, "utf8") : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
  return Buffer.concat([tag(field, 2), varint(body.length), body]);
};

export const float = (field: number, value: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeFloatLE(value);
  return Buffer.concat([tag(field, 5), b]);
};

const packedVarints = (field: number, values: ReadonlyArray<number | boolean>): Buffer =>
  bytes(field, Buffer.concat(values.map((v) => varint(typeof v === "boolean" ? Number(v) : v))));

const packedFloats = (field: number, values: readonly number[]): Buffer => {
  const b = Buffer.alloc(4 * values.length);
  values.forEach((v, i) => b.writeFloatLE(v, 4 * i));
  return bytes(field, b);
};

/** One entry of a proto3 `map<string, V>` field. */
const mapEntry = (field: number, key: string, value: Buffer): Buffer => bytes(field, Buffer.concat([bytes(1, key), bytes(2, value)]));

/** TensorFlow's DataType enum values for the dtypes a tfjs tensor can hold. */
export const DT = { float32: 1, int32: 3, bool: 10 } as const;

/** TensorShapeProto: `dim` (2) with `size` (1); a missing shape is `unknown_rank` (3). */
export function shapeProto(shape: readonly number[] | undefined): Buffer {
  if (shape === undefined) return int(3, true);
  return Buffer.concat(shape.map((d) => bytes(2, int(1, d))));
}

/** TensorProto with its values as little-endian raw bytes (`tensor_content`). */
export function tensorProto(dtype: number, shape: readonly number[], content: Uint8Array): Buffer {
  return Buffer.concat([int(1, dtype), bytes(2, shapeProto(shape)), bytes(4, content)]);
}

export type AttrValue =
  | { s: string }
  | { i: number }
  | { f: number }
  | { b: boolean }
  | { type: number }
  | { shape: readonly number[] | undefined }
  | { tensor: Buffer }
  | { list: { i?: number[]; f?: number[]; b?: boolean[] } };

/** AttrValue: list (1), s (2), i (3), f (4), b (5), type (6), shape (7), tensor (8). */
export function attrValue(a: AttrValue): Buffer {
  if ("s" in a) return bytes(2, a.s);
  if ("i" in a) return int(3, a.i);
  if ("f" in a) return float(4, a.f);
  if ("b" in a) return int(5, a.b);
  if ("type" in a) return int(6, a.type);
  if ("shape" in a) return bytes(7, shapeProto(a.shape));
  if ("tensor" in a) return bytes(8, a.tensor);
  const l = a.list;
  const body = Buffer.concat([
    l.i?.length ? packedVarints(3, l.i) : Buffer.alloc(0),
    l.f?.length ? packedFloats(4, l.f) : Buffer.alloc(0),
    l.b?.length ? packedVarints(5, l.b) : Buffer.alloc(0),
  ]);
  return bytes(1, body);
}

export interface NodeDef {
  name: string;
  op: string;
  inputs: string[];
  attrs: Record<string, AttrValue>;
}

/** NodeDef: name (1), op (2), input (3), attr (5). */
export function nodeDef(n: NodeDef): Buffer {
  return Buffer.concat([
    bytes(1, n.name),
    bytes(2, n.op),
    ...n.inputs.map((i) => bytes(3, i)),
    ...Object.entries(n.attrs).map(([k, v]) => mapEntry(5, k, attrValue(v))),
  ]);
}

/** GraphDef: node (1), versions (4: producer 1, min_consumer 2). */
export function graphDef(nodes: readonly NodeDef[], producer: number): Buffer {
  return Buffer.concat([...nodes.map((n) => bytes(1, nodeDef(n))), bytes(4, int(1, producer))]);
}

export interface TensorInfo {
  name: string;
  dtype: number;
  shape: readonly number[];
}

/** TensorInfo: name (1), dtype (2), tensor_shape (3). */
const tensorInfo = (t: TensorInfo): Buffer => Buffer.concat([bytes(1, t.name), int(2, t.dtype), bytes(3, shapeProto(t.shape))]);

/**
 * A SavedModel (saved_model_schema_version 1) with one MetaGraphDef tagged `tags`, holding
 * `graph` and a signature `signatureKey` that maps named inputs and outputs to graph tensors.
 */
export function savedModel(
  graph: Buffer, tags: readonly string[], signatureKey: string,
  inputs: Record<string, TensorInfo>, outputs: Record<string, TensorInfo>,
): Buffer {
  const signature = Buffer.concat([
    ...Object.entries(inputs).map(([k, v]) => mapEntry(1, k, tensorInfo(v))),
    ...Object.entries(outputs).map(([k, v]) => mapEntry(2, k, tensorInfo(v))),
    bytes(3, "tensorflow/serving/predict"),
  ]);
  const metaInfo = Buffer.concat(tags.map((t) => bytes(4, t)));
  const metaGraph = Buffer.concat([bytes(1, metaInfo), bytes(2, graph), mapEntry(5, signatureKey, signature)]);
  return Buffer.concat([int(1, 1), bytes(2, metaGraph)]);
}
