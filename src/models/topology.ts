/**
 * Pure edits of a Keras functional-model topology (the JSON inside a tfjs model.json): list
 * its layers, cut it at a layer, change its input size, and split it in two at a freeze point.
 * None of this needs TensorFlow, so `tlrun plan` and validation can use it.
 */

/** One inbound tensor reference: [layer name, node index, tensor index, kwargs]. */
export type InboundRef = [string, number, number, Record<string, unknown>?];

export interface LayerJson {
  class_name: string;
  name: string;
  config: Record<string, unknown>;
  inbound_nodes: InboundRef[][];
}

export interface FunctionalConfig {
  name: string;
  layers: LayerJson[];
  input_layers: Array<[string, number, number]>;
  output_layers: Array<[string, number, number]>;
}

/** The parts of model.json a topology edit touches. */
export interface ModelTopology {
  class_name?: string;
  config?: FunctionalConfig;
  model_config?: { class_name: string; config: FunctionalConfig };
  [k: string]: unknown;
}

export function functionalConfig(t: ModelTopology): FunctionalConfig {
  const cfg = t.model_config?.config ?? t.config;
  if (!cfg || !Array.isArray(cfg.layers)) throw new Error("model.json has no functional model config");
  return cfg;
}

export function layerNames(t: ModelTopology): string[] {
  return functionalConfig(t).layers.map((l) => l.name);
}

/** Names of the layers that `name` depends on, including itself. */
function ancestors(cfg: FunctionalConfig, name: string): Set<string> {
  const byName = new Map(cfg.layers.map((l) => [l.name, l]));
  const seen = new Set<string>();
  const stack = [name];
  while (stack.length) {
    const n = stack.pop()!;
    if (seen.has(n)) continue;
    seen.add(n);
    for (const node of byName.get(n)?.inbound_nodes ?? []) for (const ref of node) stack.push(ref[0]);
  }
  return seen;
}

function withConfig(t: ModelTopology, cfg: FunctionalConfig): ModelTopology {
  const copy = structuredClone(t);
  if (copy.model_config) copy.model_config.config = cfg;
  else copy.config = cfg;
  delete copy.training_config;
  return copy;
}

/** The model up to and including layer `cut`, with every other layer removed. */
export function cutAt(t: ModelTopology, cut: string): ModelTopology {
  const cfg = functionalConfig(t);
  if (!cfg.layers.some((l) => l.name === cut)) throw new Error(`no layer named '${cut}'`);
  const keep = ancestors(cfg, cut);
  return withConfig(t, {
    ...cfg,
    layers: cfg.layers.filter((l) => keep.has(l.name)),
    output_layers: [[cut, 0, 0]],
  });
}

/** Set the spatial size of every input layer, keeping the channel count. */
export function withInputSize(t: ModelTopology, size: [number, number], channels?: number): ModelTopology {
  const cfg = structuredClone(functionalConfig(t));
  for (const l of cfg.layers) {
    if (l.class_name !== "InputLayer") continue;
    const shape = (l.config.batch_input_shape ?? l.config.batchInputShape) as Array<number | null>;
    const c = channels ?? shape[3] ?? 3;
    l.config.batch_input_shape = [null, size[0], size[1], c];
    delete l.config.batchInputShape;
  }
  return withConfig(t, cfg);
}

/** The layers whose output feeds a layer at or after `index` from a layer before it. */
export function frontier(t: ModelTopology, index: number): string[] {
  const layers = functionalConfig(t).layers;
  const before = new Set(layers.slice(0, index).map((l) => l.name));
  const out: string[] = [];
  for (const l of layers.slice(index))
    for (const node of l.inbound_nodes)
      for (const ref of node) if (before.has(ref[0]) && !out.includes(ref[0])) out.push(ref[0]);
  return out;
}

/**
 * Split a model at layer `index`: `bottom` maps the input to the frontier tensors, `top` maps
 * new inputs named after the frontier to the original output. Used to freeze everything below
 * the fine-tune point and to cache the activations that cross it.
 */
export function splitAt(t: ModelTopology, index: number, frontierShapes: Array<Array<number | null>>): {
  bottom: ModelTopology;
  top: ModelTopology;
  frontier: string[];
} {
  const cfg = functionalConfig(t);
  const front = frontier(t, index);
  const bottomLayers = cfg.layers.slice(0, index);
  const bottom = withConfig(t, { ...cfg, layers: bottomLayers, output_layers: front.map((n) => [n, 0, 0]) });
  const inputs: LayerJson[] = front.map((name, i) => ({
    class_name: "InputLayer",
    name: `${name}__in`,
    config: { batch_input_shape: frontierShapes[i], dtype: "float32", sparse: false, name: `${name}__in` },
    inbound_nodes: [],
  }));
  const rename = (ref: InboundRef): InboundRef => (front.includes(ref[0]) ? [`${ref[0]}__in`, 0, 0, ref[3] ?? {}] : ref);
  const topLayers = cfg.layers.slice(index).map((l) => ({
    ...l,
    inbound_nodes: l.inbound_nodes.map((node) => node.map(rename)),
  }));
  const top = withConfig(t, {
    ...cfg,
    layers: [...inputs, ...topLayers],
    input_layers: inputs.map((l) => [l.name, 0, 0]),
  });
  return { bottom, top, frontier: front };
}
