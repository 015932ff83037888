import { EXTRAS, locateExtra } from "../../util/extras";
import { embeddedModels } from "../source";
import type { Architecture } from "../zoo";
import { megabytes } from "./offline";
import { isAvailable, weightsFile } from "./sources";

/** Where an architecture's ImageNet weights stand on this machine, as `tlrun models` and `tlrun doctor` show it. */
export interface ImagenetStatus {
  /**
   * `embedded`: `base.model: <name>` without base.weights needs no download (the embedded
   * MobileNetV2); `cached`: Keras' file is in the cache, checked; `missing`: a run downloads it.
   */
  status: "embedded" | "cached" | "missing";
  /** Whether a run with `weights` left empty (embedded) or `imagenet` (the others) works without the network. */
  offline: boolean;
  /** Keras' notop file, its size when known, and where the cache keeps it. */
  file: string;
  bytes: number | null;
  path: string;
  url: string;
}

/**
 * The status of `arch`'s ImageNet weights. The embedded model's weights come from the nsfwjs
 * package, which is offline once installed (it is installed on first use otherwise).
 */
export function imagenetStatus(arch: Architecture): ImagenetStatus {
  const w = weightsFile(arch, "imagenet", process.cwd());
  const file = { file: arch.imagenet.file, bytes: arch.imagenet.bytes ?? null, path: w.path, url: w.url! };
  if (embeddedModels.includes(arch.name)) return { status: "embedded", offline: locateExtra(EXTRAS.nsfwjs) !== undefined, ...file };
  const cached = isAvailable(w);
  return { status: cached ? "cached" : "missing", offline: cached, ...file };
}

/** One short phrase: "embedded (offline)", "cached", or "missing: <file> (58.9 MB)". */
export function describeStatus(s: ImagenetStatus): string {
  if (s.status === "embedded") return s.offline ? "embedded (offline)" : `embedded (${EXTRAS.nsfwjs.name} installed on first use)`;
  if (s.status === "cached") return "cached";
  return `missing: ${s.file}${s.bytes ? ` (${megabytes(s.bytes)})` : ""}`;
}
