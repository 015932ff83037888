import { blocksOf } from "./zoo/blocks";

/**
 * A reference to a layer of the base, as `freeze.at`, `lr_multipliers[].from` and
 * `tlrun models --freeze-at` accept it: a layer name, an index, a Keras block name (its first
 * layer: `block5`, `conv5_block3`, `block_13`, or any `_`-separated name prefix such as `conv5`),
 * or a fraction of the depth strictly between 0 and 1 (`0.75`: the top quarter trains).
 */
export type LayerRef = string | number;

/** Keras' block of each layer, from the names in order ("stem" before the first block, "top" after the last). */
export function layerBlocks(names: readonly string[]): string[] {
  // Names alone: without the graph, the stem ends where the first named block starts.
  return blocksOf(names.map((name) => ({ name, inbound: [] })));
}

/** A fraction of the depth as written in YAML (0.75) or on the command line ("0.75"), else undefined. */
export function asFraction(ref: LayerRef): number | undefined {
  const v = typeof ref === "number" ? ref : /^0?\.\d+$/.test(ref) ? Number(ref) : NaN;
  return v > 0 && v < 1 && !Number.isInteger(v) ? v : undefined;
}

/** The layer index `ref` points at among `names` (the layers of the cut base), or undefined. */
export function resolveLayerRef(names: readonly string[], ref: LayerRef): number | undefined {
  const fraction = asFraction(ref);
  if (fraction !== undefined) return Math.floor(fraction * names.length);
  if (typeof ref === "number" || /^\d+$/.test(ref)) {
    const i = Number(ref);
    return Number.isInteger(i) && i >= 0 && i < names.length ? i : undefined;
  }
  const byName = names.indexOf(ref);
  if (byName >= 0) return byName;
  const byBlock = layerBlocks(names).indexOf(ref);
  if (byBlock >= 0 && ref !== "stem" && ref !== "top") return byBlock;
  const byPrefix = names.findIndex((n) => n.startsWith(`${ref}_`));
  return byPrefix >= 0 ? byPrefix : undefined;
}

/** What a layer reference may name: every layer and every Keras block, for "did you mean" hints. */
export function layerRefNames(names: readonly string[]): string[] {
  return [...new Set([...names, ...layerBlocks(names).filter((b) => b !== "stem" && b !== "top")])];
}
