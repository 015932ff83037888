import type { ModelArtifacts } from "./artifacts";
import { baseTopology } from "./build";
import { resolveLayerRef, type LayerRef } from "./freeze-point";
import { functionalConfig, type ModelTopology } from "./topology";

/** A layer of the base as `tlrun` reports and validates it. */
export interface LayerInfo {
  index: number;
  name: string;
  className: string;
  params: number;
}

/** The layers of the cut base with their parameter counts, computed from model.json alone. */
export function describeLayers(topology: ModelTopology, a: Pick<ModelArtifacts, "weightSpecs">): LayerInfo[] {
  const params = new Map<string, number>();
  for (const w of a.weightSpecs) {
    const layer = w.name.split("/")[0]!;
    params.set(layer, (params.get(layer) ?? 0) + w.shape.reduce((x, y) => x * y, 1));
  }
  return functionalConfig(topology).layers.map((l, index) => ({
    index,
    name: l.name,
    className: l.class_name,
    params: params.get(l.name) ?? 0,
  }));
}

/** The cut layer to use: the config's, or the model's default, or its last layer. */
export function resolveCut(a: Pick<ModelArtifacts, "topology" | "defaultCut">, cut: string): string {
  if (cut) return cut;
  if (a.defaultCut) return a.defaultCut;
  const layers = functionalConfig(a.topology).layers;
  return layers[layers.length - 1]!.name;
}

/** The layers of the base as the pipeline uses it (cut, any input size). */
export function baseLayers(a: Pick<ModelArtifacts, "topology" | "defaultCut">, cut: string, weightSpecs: ModelArtifacts["weightSpecs"] = []): LayerInfo[] {
  return describeLayers(baseTopology(a, resolveCut(a, cut), [224, 224]), { weightSpecs });
}

/** Resolve `freeze.at` (a name, index, block or fraction) to a layer index of the cut base, or undefined. */
export function freezeIndex(layers: LayerInfo[], at: LayerRef): number | undefined {
  return resolveLayerRef(layers.map((l) => l.name), at);
}
