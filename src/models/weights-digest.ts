import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { sha256 } from "../util/hash";

/**
 * The sha256 of a tfjs model folder's weight files, concatenated in model.json's order: the
 * trained model's identity in the MLflow tag `tlrun.weights_sha256`, the report page and the
 * model card. Undefined when the folder holds no model.json or lacks one of its shards.
 */
export function modelWeightsSha256(modelDir: string): string | undefined {
  const modelJson = join(modelDir, "model.json");
  if (!existsSync(modelJson)) return undefined;
  const manifest = (JSON.parse(readFileSync(modelJson, "utf8")).weightsManifest ?? []) as Array<{ paths: string[] }>;
  const paths = manifest.flatMap((g) => g.paths).map((p) => join(modelDir, p));
  if (!paths.length || !paths.every(existsSync)) return undefined;
  return sha256(Buffer.concat(paths.map((p) => readFileSync(p))));
}
