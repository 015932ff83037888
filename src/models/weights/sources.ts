import { existsSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { TlrunError } from "../../errors";
import { cacheRoot, imagenetUrl, type Architecture } from "../zoo";
import { download, Unreachable, type Progress } from "./download";
import { offlineAdvice } from "./offline";
import { hashKind, sha256Sync, stampedSha256 } from "./verify";

/** Where an architecture's `.h5` weights come from, and where they are (or will be) on disk. */
export interface WeightsFile {
  kind: "url" | "file";
  path: string;
  url?: string;
  /** md5 or sha256 the file must match; undefined when the publisher gives none. */
  hash?: string;
}

/** `#sha256=<hex>` or `#md5=<hex>` at the end of a weights URL, as pip writes it. */
function splitHash(ref: string): { url: string; hash?: string } {
  const m = /^(.*)#(sha256|md5)=([0-9a-fA-F]+)$/.exec(ref);
  if (!m) return { url: ref };
  hashKind(m[3]!);
  return { url: m[1]!, hash: m[3]!.toLowerCase() };
}

/**
 * Resolve `base.weights` for an architecture: `imagenet` (Keras' official notop file and its
 * published hash), an `https://…h5#sha256=…` URL, or a path to a local `.h5` relative to the
 * pipeline file. Every download lands in one cache folder, `<cacheRoot>/weights`.
 */
export function weightsFile(arch: Architecture, weights: string, baseDir: string): WeightsFile {
  if (weights === "imagenet")
    return { kind: "url", url: imagenetUrl(arch), hash: arch.imagenet.hash, path: join(cacheRoot(), "weights", arch.imagenet.file) };
  if (/^https?:\/\//i.test(weights)) {
    const { url, hash } = splitHash(weights);
    if (!hash)
      throw new TlrunError(`a weights URL needs the file's hash so the download can be checked; write ${url}#sha256=<64 hex digits>`, 2);
    const name = basename(new URL(url).pathname) || "weights.h5";
    return { kind: "url", url, hash, path: join(cacheRoot(), "weights", `${hash.slice(0, 12)}-${name}`) };
  }
  if (!weights) throw new TlrunError(`${arch.name} has no weights of its own; write weights: imagenet, a .h5 or .keras path, or a URL`, 2);
  return { kind: "file", path: resolve(baseDir, weights) };
}

/** Whether the file is here and checked (a cached download) or simply present (a local file). */
export function isAvailable(w: WeightsFile): boolean {
  return w.kind === "file" ? existsSync(w.path) : stampedSha256(w.path) !== undefined;
}

/** A content identity for the weights, for cache keys, without reading big files when avoidable. */
export function weightsIdentity(arch: Architecture, w: WeightsFile): string {
  if (w.hash) return `${arch.name}:${hashKind(w.hash)}:${w.hash}`;
  const sha = isAvailable(w) ? sha256Sync(w.path) : undefined;
  return `${arch.name}:${sha ? `sha256:${sha}` : w.url ?? w.path}`;
}

/**
 * Make sure the file is on disk and checked, downloading it once if needed; returns its path.
 * A server that cannot be reached fails at once with the ways to get the file without it.
 */
export async function fetchWeightsFile(w: WeightsFile, onProgress?: Progress, arch?: Architecture): Promise<string> {
  if (w.kind === "file") {
    if (!existsSync(w.path)) throw new TlrunError(`weights file not found: ${w.path}`, 1);
    return w.path;
  }
  try {
    return (await download({ url: w.url!, dest: w.path, hash: w.hash, onProgress })).path;
  } catch (err) {
    if (err instanceof Unreachable) throw new TlrunError(offlineAdvice(arch, w, err.reason), err.exitCode);
    throw err;
  }
}
