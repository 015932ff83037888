import type { LoadedConfig } from "../config/types";
import { ConfigError } from "../errors";
import { layerBlocks } from "../models/freeze-point";
import { baseLayers, resolveCut } from "../models/layers";
import { baseShape } from "../models/source";
import { strategySettings } from "./strategy-table";

/**
 * The depths probed when `strategy.depths` is empty, shallow to top: the ends of MobileNetV2's
 * stride-16 and stride-32 stages and its last block, and VGG's last three pools: points where
 * the features change character, so the curve across them says how ImageNet-specific the top is.
 */
const KNOWN_DEPTHS: Record<string, string[]> = {
  mobilenet_v2: ["block_6_project", "block_10_project", "block_13_project", "out_relu"],
  vgg16: ["block3_pool", "block4_pool", "block5_pool"],
  vgg19: ["block3_pool", "block4_pool", "block5_pool"],
  attention_vgg16: ["block3_pool", "block4_pool", "block5_pool"],
};

/** One probed depth: the layer cut there, and the Keras block that fine-tuning from it starts at. */
export interface ProbeDepth {
  layer: string;
  block: string;
}

/**
 * The layers the probe cuts at, from `strategy.depths` or the base's own list (else 1/2, 3/4 and
 * all of the full base's depth), each with its block. A depth that names no layer of the base is
 * refused here, located at strategy.depths, before anything runs.
 */
export function probeDepths(loaded: LoadedConfig): ProbeDepth[] {
  const { base } = loaded.config;
  const shape = baseShape(base.model, loaded.baseDir);
  if (shape.graph)
    throw new ConfigError([{ location: loaded.locate("strategy"), message: `strategy: auto cuts the base at several depths, and base.model '${base.model}' is a tfjs GraphModel, which cannot be cut`, hint: "use strategy: explicit with this base, or a LayersModel or an architecture such as mobilenet_v2" }]);
  const names = baseLayers(shape, resolveCut(shape, "")).map((l) => l.name);
  const asked = strategySettings(loaded.config).depths;
  const picked = asked.length ? asked : KNOWN_DEPTHS[base.model] ?? [names[Math.floor(names.length / 2)]!, names[Math.floor((3 * names.length) / 4)]!, names[names.length - 1]!];
  const missing = picked.filter((d) => !names.includes(d));
  if (missing.length || picked.length < 2)
    throw new ConfigError([{
      location: loaded.locate("strategy.depths") ?? loaded.locate("strategy"),
      message: picked.length < 2 ? `strategy.depths needs at least two layers to compare, found ${picked.length}` : `strategy.depths names ${missing.map((m) => `'${m}'`).join(", ")}, not a layer of ${base.model}`,
      hint: "list two to four layer names of the base, shallow to top (`tlrun models <name>` lists them), or leave strategy.depths out",
    }]);
  const blocks = layerBlocks(names);
  return picked.map((layer) => {
    const block = blocks[names.indexOf(layer)]!;
    return { layer, block: block === "stem" || block === "top" ? layer : block };
  });
}

/**
 * The last named block at or below the top probed depth: block_16 on MobileNetV2 (out_relu sits
 * in its "top"), block5 on VGG. A short fine-tune trains it alone: the most ImageNet-specific
 * weights, and the fewest. Undefined when the base names no blocks.
 */
export function topBlock(loaded: LoadedConfig, depths: readonly ProbeDepth[]): string | undefined {
  const shape = baseShape(loaded.config.base.model, loaded.baseDir);
  const names = baseLayers(shape, resolveCut(shape, "")).map((l) => l.name);
  const blocks = layerBlocks(names);
  const top = names.indexOf(depths[depths.length - 1]!.layer);
  for (let i = top; i >= 0; i--) if (blocks[i] !== "top" && blocks[i] !== "stem") return blocks[i];
  return undefined;
}
