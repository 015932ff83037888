import type { LayerInfo } from "../layers";
import { functionalConfig } from "../topology";
import { expectedWeights } from "../weights/map";
import type { Architecture } from "./index";

/** A layer of an architecture as `tlrun models <name>` shows it. */
export interface ZooLayer extends LayerInfo {
  /** Keras' block: block5, block_13, conv5_block3, or stem/top outside the blocks. */
  block: string;
}

const BLOCK = /^(block_?\d+|conv\d+_block\d+|expanded_conv|mixed\d+|dense\d+_block\d+|pool\d+)/;

/** Keras' block of a layer, from its name; layers before the first block are "stem", after the last "top". */
export function blockOf(name: string, seenBlock: boolean): string {
  const m = BLOCK.exec(name);
  if (m) return m[1] === "expanded_conv" ? "block_0" : m[1]!;
  return name === "input_1" || !seenBlock ? "stem" : "top";
}

/** Every layer of `arch` with its block and parameter count (from the weights tfjs would create). */
export async function zooLayers(arch: Architecture): Promise<ZooLayer[]> {
  const topology = arch.topology();
  const params = new Map<string, number>();
  for (const w of await expectedWeights(topology)) params.set(w.layer, (params.get(w.layer) ?? 0) + w.shape.reduce((a, b) => a * b, 1));
  let seenBlock = false;
  return functionalConfig(topology).layers.map((l, index) => {
    seenBlock ||= BLOCK.test(l.name);
    return { index, name: l.name, className: l.class_name, params: params.get(l.name) ?? 0, block: blockOf(l.name, seenBlock) };
  });
}

