import type * as tfjs from "@tensorflow/tfjs";
import { TlrunError } from "../../errors";
import type { WeightSpec } from "../artifacts";
import type { KerasWeights } from "../h5-read";
import type { ModelTopology } from "../topology";

/** A weight tfjs expects: its tfjs name (`layer/kernel`), shape, and layer. */
export interface ExpectedWeight {
  layer: string;
  name: string;
  shape: number[];
}

/** The weights a topology's tfjs model has, layer by layer, in the order tfjs (and Keras) create them. */
export async function expectedWeights(topology: ModelTopology): Promise<ExpectedWeight[]> {
  const tf = await import("@tensorflow/tfjs"); // loaded on use: plan and validate never need it
  await import("../zoo/custom-layers");
  const model = await tf.models.modelFromJSON({ modelTopology: topology } as unknown as tfjs.io.ModelJSON);
  try {
    return model.layers.flatMap((l) => l.weights.map((w) => ({ layer: l.name, name: w.originalName, shape: w.shape.map(Number) })));
  } finally {
    model.dispose();
  }
}

const fmt = (s: number[]): string => `[${s.join(", ")}]`;

/**
 * Keras' own loading (`load_weights` without by_name) when the names differ: the file's layers
 * that have weights, in the file's order, onto the model's, in the model's order. Keras' older
 * official files name unnamed layers from 1 (conv2d_1 … conv2d_94 in InceptionV3) where Keras 2.15
 * counts from 0. Used only when every layer pairs up with the same number and shapes of weights;
 * otherwise undefined, and the names decide (with their errors).
 */
function byKerasOrder(h5: KerasWeights, expected: ExpectedWeight[]): KerasWeights | undefined {
  const want = new Map<string, ExpectedWeight[]>();
  for (const e of expected) want.set(e.layer, [...(want.get(e.layer) ?? []), e]);
  if ([...want.keys()].every((l) => h5.layers.has(l))) return undefined;
  const have = [...h5.layers].filter(([, ws]) => ws.length > 0);
  const wanted = [...want];
  if (have.length !== wanted.length) return undefined;
  const same = wanted.every(([, ws], i) => {
    const hs = have[i]![1];
    return hs.length === ws.length && ws.every((w, j) => fmt(w.shape) === fmt(hs[j]!.shape));
  });
  return same ? { ...h5, layers: new Map(wanted.map(([layer], i) => [layer, have[i]![1]])) } : undefined;
}

/**
 * Lay the .h5 weights out as tfjs weightSpecs + one buffer, matching layers by name and weights
 * by their order inside the layer (as Keras does; if the names differ but every layer pairs up in
 * order, in Keras' order, as Keras' load_weights does). Dense layers the file has and the model lacks
 * (a classifier top) are ignored; a convolutional layer the model lacks is an error; anything the model needs and the file lacks or shapes differently
 * is an error naming the file, the layer and both shapes.
 */
export function mapWeights(file: KerasWeights, expected: ExpectedWeight[], archName: string): { weightSpecs: WeightSpec[]; weightData: ArrayBuffer } {
  const h5 = byKerasOrder(file, expected) ?? file;
  const byLayer = new Map<string, ExpectedWeight[]>();
  for (const e of expected) byLayer.set(e.layer, [...(byLayer.get(e.layer) ?? []), e]);
  const total = expected.reduce((n, e) => n + e.shape.reduce((a, b) => a * b, 1), 0);
  const data = new Float32Array(total);
  const specs: WeightSpec[] = [];
  let off = 0;
  for (const [layer, have] of h5.layers) {
    const conv = have.find((w) => w.shape.length > 2);
    if (conv && !byLayer.has(layer))
      throw new TlrunError(`${h5.file}: has layer '${layer}' (weight '${conv.name}' ${fmt(conv.shape)}) that ${archName} does not have; are these weights for a different architecture?`, 1);
  }
  for (const [layer, want] of byLayer) {
    const have = h5.layers.get(layer);
    if (!have) {
      const names = [...h5.layers.keys()].filter((n) => (h5.layers.get(n) ?? []).length).slice(0, 5).join(", ");
      throw new TlrunError(`${h5.file}: no weights for layer '${layer}' that ${archName} needs (the file's layers begin: ${names}); are these weights for a different architecture?`, 1);
    }
    if (have.length !== want.length)
      throw new TlrunError(`${h5.file}: layer '${layer}' has ${have.length} weights in the file, ${archName} expects ${want.length} (${want.map((w) => w.name.split("/").pop()).join(", ")})`, 1);
    want.forEach((w, i) => {
      const h = have[i]!;
      if (fmt(h.shape) !== fmt(w.shape))
        throw new TlrunError(`${h5.file}: layer '${layer}' weight '${h.name}' has shape ${fmt(h.shape)} in the file, ${archName} expects ${fmt(w.shape)} (${w.name}); are these weights for a different architecture or variant?`, 1);
      data.set(h.data, off);
      off += h.data.length;
      specs.push({ name: w.name, shape: w.shape, dtype: "float32" });
    });
  }
  return { weightSpecs: specs, weightData: data.buffer };
}
