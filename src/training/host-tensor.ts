import * as tf from "@tensorflow/tfjs";
import type { HostTensor } from "./checkpoint";

/** A tensor's values copied to the host, bit for bit, for a checkpoint. */
export async function toHost(t: tf.Tensor): Promise<HostTensor> {
  const dtype = t.dtype === "int32" ? "int32" : "float32";
  if (t.dtype !== dtype) throw new Error(`a checkpoint holds float32 and int32 tensors, not ${t.dtype}`);
  const data = (await t.data()) as Float32Array | Int32Array;
  return { shape: t.shape.slice(), dtype, data: dtype === "int32" ? Int32Array.from(data) : Float32Array.from(data) };
}

/** A checkpoint's tensor back on the backend. */
export function fromHost(h: HostTensor): tf.Tensor {
  return tf.tensor(h.data, h.shape, h.dtype);
}

/** Why `saved` cannot be assigned to `into` (count, shape or dtype differ), or undefined. */
export function mismatch(what: string, saved: HostTensor[], into: tf.Tensor[]): string | undefined {
  if (saved.length !== into.length) return `${what}: ${saved.length} tensors saved, ${into.length} expected`;
  const i = saved.findIndex((s, j) => s.dtype !== into[j]!.dtype || s.shape.join("x") !== into[j]!.shape.join("x"));
  return i < 0 ? undefined : `${what}: tensor ${i} is ${saved[i]!.shape.join("x")} ${saved[i]!.dtype}, expected ${into[i]!.shape.join("x")} ${into[i]!.dtype}`;
}
