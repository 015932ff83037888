import type { LayerInfo } from "../layers";
import { functionalConfig } from "../topology";
import { expectedWeights } from "../weights/map";
import { blocksOf } from "./blocks";
import type { Architecture } from "./index";

/** A layer of an architecture as `tlrun models <name>` shows it. */
export interface ZooLayer extends LayerInfo {
  /** Keras' block: block5, block_13, conv5_block3, or stem/top outside the blocks. */
  block: string;
}

/** Every layer of `arch` with its block and parameter count (from the weights tfjs would create). */
export async function zooLayers(arch: Architecture): Promise<ZooLayer[]> {
  const topology = arch.topology();
  const params = new Map<string, number>();
  for (const w of await expectedWeights(topology)) params.set(w.layer, (params.get(w.layer) ?? 0) + w.shape.reduce((a, b) => a * b, 1));
  const layers = functionalConfig(topology).layers;
  const blocks = blocksOf(layers.map((l) => ({ name: l.name, inbound: (l.inbound_nodes[0] ?? []).map((ref) => ref[0]) })));
  return layers.map((l, index) => ({ index, name: l.name, className: l.class_name, params: params.get(l.name) ?? 0, block: blocks[index]! }));
}

