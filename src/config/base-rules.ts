import { existsSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { didYouMean, type Problem } from "../errors";
import { embeddedModels } from "../models/source";
import type { WeightsFile } from "../models/weights/sources";
import { ARCHITECTURES } from "../models/zoo";
import { locateIn } from "./class-rules";
import type { LoadedConfig } from "./types";

/** Every name `base.model` takes besides a path or URL, in the order `tlrun models` lists them. */
export function knownModelNames(): string[] {
  return [...new Set([...embeddedModels, ...Object.keys(ARCHITECTURES)])];
}

/**
 * `base.model` that is neither a known name, a URL, nor an existing tfjs model folder or
 * model.json: most often a misspelt name (`mobilenetv2`), so the message lists the names and
 * suggests the nearest. Undefined when the model is one of those.
 */
export function checkModelName(loaded: LoadedConfig): Problem | undefined {
  const model = loaded.config.base.model;
  const names = knownModelNames();
  if (names.includes(model) || /^https?:\/\//i.test(model) || existsSync(resolve(loaded.baseDir, model))) return undefined;
  const location = locateIn(loaded, "base.model");
  const known = `known names: ${names.join(", ")}`;
  if (/[\\/]|\.json$/i.test(model))
    return { location, message: `base.model '${model}' does not exist (resolved to ${resolve(loaded.baseDir, model)})`, hint: `a tfjs model is a folder holding model.json, relative to the pipeline file; or write one of the ${known}` };
  const guess = didYouMean(model, names);
  return { location, message: `base.model '${model}' is not a known model, nor a tfjs model folder beside the pipeline file`, hint: `${guess ? `${guess} ` : ""}${known}` };
}

/** `base.weights` naming a local file that is not there (or is a folder): found now rather than when the weights stage runs. */
export function checkWeightsPath(loaded: LoadedConfig, w: WeightsFile): Problem | undefined {
  if (w.kind !== "file") return undefined;
  const folder = existsSync(w.path) && statSync(w.path).isDirectory();
  if (existsSync(w.path) && !folder) return undefined;
  return {
    location: locateIn(loaded, "base.weights"),
    message: `base.weights '${loaded.config.base.weights}' ${folder ? "is a folder, not a file" : "does not exist"} (resolved to ${w.path})`,
    hint: "paths are relative to the pipeline file; write the path of a Keras .h5 or .keras file, or weights: imagenet for Keras' published ImageNet weights",
  };
}
