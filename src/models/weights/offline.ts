import { basename } from "node:path";
import type { Architecture } from "../zoo";

/** What the advice needs of a `WeightsFile` (sources.ts): where it goes, where it comes from, its hash. */
export interface WantedFile {
  path: string;
  url?: string;
  hash?: string;
}

/** The variable that points `weights: imagenet` downloads at a mirror (see zoo/index.ts:imagenetUrl). */
export const MIRROR_VARIABLE = "TLRUN_KERAS_WEIGHTS_MIRROR";

/** "58.9 MB". */
export function megabytes(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

/** "md5 6d6bbae1… (Keras' published file_hash)", or what the downloader does when no hash is known. */
function hashLine(arch: Architecture | undefined, w: WantedFile): string {
  if (!w.hash) return "Keras publishes no hash for it, so its sha256 is recorded when it first arrives";
  const kind = w.hash.length === 64 ? "sha256" : "md5";
  return `${kind} ${w.hash}${arch && w.hash === arch.imagenet.hash ? " (Keras' published file_hash)" : ""}`;
}

/**
 * One paragraph for weights that cannot be downloaded: the file needed, its hash, the three ways
 * to provide it (import it into the exact cache path, a mirror, a local `base.weights`), and that
 * the embedded mobilenet_v2 needs no download. `reason` says why the download cannot happen.
 */
export function offlineAdvice(arch: Architecture | undefined, w: WantedFile, reason: string): string {
  const name = arch ? `the ${arch.name} weights` : "the weights";
  const file = basename(w.path);
  const imagenet = arch !== undefined && w.url !== undefined && basename(w.path) === arch.imagenet.file;
  const size = imagenet && arch.imagenet.bytes ? ` (${megabytes(arch.imagenet.bytes)})` : "";
  const ways = [
    imagenet
      ? `copy the file from a machine that has it and run \`tlrun weights import ${file} --model ${arch.name}\`, which checks it and puts it at ${w.path}`
      : `copy the file from a machine that has it to ${w.path} (it is checked against the hash above)`,
    ...(imagenet ? [`set ${MIRROR_VARIABLE} to a server that holds Keras' files in the same layout`] : []),
    `write \`base.weights: path/to/${file}\` in the pipeline to use a local copy`,
  ];
  return (
    `cannot download ${name}: ${reason}. ` +
    `It needs ${file}${size} from ${w.url ?? w.path}; ${hashLine(arch, w)}. ` +
    `To run without the network, ${ways.join("; or ")}. ` +
    "`base.model: mobilenet_v2` without base.weights needs no download: its ImageNet weights are embedded from the nsfwjs package."
  );
}
