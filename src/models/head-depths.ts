import * as tf from "@tensorflow/tfjs";
import type { ModelArtifacts } from "./artifacts";
import { layerBlocks } from "./freeze-point";
import { baseLayers, resolveCut } from "./layers";

/** `head.depths` as written: every block's output, or named layers. */
export type HeadDepthsSetting = "blocks" | readonly string[] | null | undefined;

/**
 * The layers below the cut the head reads besides the cut, shallow to deep. `names` are the cut
 * base's layers in order, the cut last. `blocks` is the last layer of every named block below
 * the cut (MobileNetV2: block_N_add, or block_N_project_BN where the block has no residual;
 * VGG: blockN_pool); a list is kept in the base's order. The cut itself is never repeated.
 */
export function headDepths(names: readonly string[], setting: HeadDepthsSetting): string[] {
  if (!setting) return [];
  const cut = names.length - 1;
  if (setting !== "blocks") {
    const at = new Map(names.map((n, i) => [n, i]));
    return [...setting].filter((d) => at.get(d) !== cut).sort((a, b) => (at.get(a) ?? 0) - (at.get(b) ?? 0));
  }
  const blocks = layerBlocks(names);
  const out: string[] = [];
  for (let i = 0; i < cut; i++) {
    const b = blocks[i]!;
    if (b !== "stem" && b !== "top" && blocks[i + 1] !== b) out.push(names[i]!);
  }
  return out;
}

/** headDepths for the base of `a` cut at `cut` ("" = the base's default cut). */
export function headDepthsOf(a: Pick<ModelArtifacts, "topology" | "defaultCut">, cut: string, setting: HeadDepthsSetting): string[] {
  return setting ? headDepths(baseLayers(a, resolveCut(a, cut)).map((l) => l.name), setting) : [];
}

/**
 * `base` (cut, one output) with `depths` read as well: each depth's map and the cut's pooled
 * over their spatial axes and joined, shallow to deep, into one vector per image, as the head on
 * several depths reads them. Layers are shared with `base` (no weights are copied).
 */
export function pooledDepthsOutput(base: tf.LayersModel, depths: readonly string[], pooling: "avg" | "max"): tf.SymbolicTensor {
  return joinPooled([...depthMaps(base, depths), base.outputs[0]!], pooling);
}

/** The maps `depths` (layers of `base`) give, shallow to deep as listed. */
export function depthMaps(base: tf.LayersModel, depths: readonly string[]): tf.SymbolicTensor[] {
  return depths.map((d) => base.getLayer(d).output as tf.SymbolicTensor);
}

/** Each map pooled over its spatial axes, the vectors joined in order: one row per image. */
export function joinPooled(maps: readonly tf.SymbolicTensor[], pooling: "avg" | "max"): tf.SymbolicTensor {
  const pooled = maps.map((m, i) => {
    const name = `head_pool_${i}`;
    return (pooling === "avg" ? tf.layers.globalAveragePooling2d({ name }) : tf.layers.globalMaxPooling2d({ name })).apply(m) as tf.SymbolicTensor;
  });
  return pooled.length === 1 ? pooled[0]! : (tf.layers.concatenate({ name: "head_depths" }).apply(pooled) as tf.SymbolicTensor);
}
