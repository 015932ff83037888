import { dirname } from "node:path";
import type { PipelineConfig } from "../config/types";
import { TlrunError } from "../errors";
import { baseShape } from "../models/source";
import { ARCHITECTURES } from "../models/zoo";

/**
 * The preprocessing modes (data/preprocess.ts, Keras' preprocess_input) written out so that
 * someone without tlrun can apply them: one formula per mode, and the same as numbers,
 * out[..., k] = (pixel[..., channel_order[k]] − mean[k]) / std[k] on 0..255 RGB values.
 */
export interface Preprocessing {
  mode: "tf" | "caffe" | "torch" | "none";
  formula: string;
  /** Which input channel each output channel reads: "RGB" keeps them, "BGR" reverses them. */
  channel_order: "RGB" | "BGR";
  mean: [number, number, number];
  std: [number, number, number];
}

const FORMULA: Record<Preprocessing["mode"], string> = {
  tf: "x / 127.5 - 1 on 0..255 RGB values (range -1..1)",
  caffe: "RGB to BGR, then subtract the ImageNet BGR means [103.939, 116.779, 123.68] (no scaling)",
  torch: "x / 255, then subtract [0.485, 0.456, 0.406] and divide by [0.229, 0.224, 0.225] per RGB channel",
  none: "none: 0..255 RGB values as floats (the model rescales inside)",
};

export function describePreprocessing(mode: Preprocessing["mode"]): Preprocessing {
  const same = (v: number): [number, number, number] => [v, v, v];
  const numbers: Record<Preprocessing["mode"], Pick<Preprocessing, "channel_order" | "mean" | "std">> = {
    tf: { channel_order: "RGB", mean: same(127.5), std: same(127.5) },
    caffe: { channel_order: "BGR", mean: [103.939, 116.779, 123.68], std: same(1) },
    torch: { channel_order: "RGB", mean: [0.485 * 255, 0.456 * 255, 0.406 * 255], std: [0.229 * 255, 0.224 * 255, 0.225 * 255] },
    none: { channel_order: "RGB", mean: same(0), std: same(1) },
  };
  return { mode, formula: FORMULA[mode], ...numbers[mode] };
}

/**
 * The preprocessing a finished run trained with: `data.preprocessing`, with `auto` resolved to the
 * base model's own mode as extract resolved it (a zoo architecture's, otherwise what the base's
 * source says), without loading its weights. Predict and the model card both read it here.
 */
export function runPreprocessing(c: PipelineConfig, runDir: string): Preprocessing["mode"] {
  if (c.data.preprocessing !== "auto") return c.data.preprocessing;
  const arch = ARCHITECTURES[c.base.model];
  if (arch) return arch.preprocessing; // the embedded mobilenet_v2 shares its zoo entry's "tf"
  try {
    return baseShape(c.base.model, dirname(runDir)).preprocessing;
  } catch (err) {
    throw new TlrunError(`cannot tell the preprocessing of base ${c.base.model} (data.preprocessing is auto): ${(err as Error).message.split("\n")[0]}`);
  }
}
