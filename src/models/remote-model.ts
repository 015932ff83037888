import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { TlrunError } from "../errors";
import { sha256 } from "../util/hash";
import { download, type Progress } from "./weights/download";
import { hashKind, stampedSha256 } from "./weights/verify";
import { cacheRoot } from "./zoo";

/** `base.model: https://…/model.json[#sha256=<hex>]`: where it is fetched from and cached. */
export interface RemoteModel {
  url: string;
  /** sha256 the model.json must match; without it the first download's sha256 is recorded. */
  hash?: string;
  /** The cache folder: model.json and its shards at their relative paths. */
  dir: string;
}

interface Manifest {
  weightsManifest?: Array<{ paths?: string[]; weights?: Array<{ shape: number[]; dtype: string }> }>;
}

/** The remote model `base.model` names, or undefined when it is not an http(s) URL. */
export function remoteModelRef(model: string): RemoteModel | undefined {
  if (!/^https?:\/\//i.test(model)) return undefined;
  const m = /^(.*)#sha256=([0-9a-fA-F]+)$/.exec(model);
  const url = m ? m[1]! : model.replace(/#.*$/, "");
  if (m && hashKind(m[2]!) !== "sha256") throw new TlrunError(`${model}: a model URL is pinned with #sha256=<64 hex digits>`, 2);
  if (!/\/model\.json$|\.json$/i.test(new URL(url).pathname))
    throw new TlrunError(`${url}: base.model as a URL must point at a tfjs model.json (e.g. https://host/models/x/model.json#sha256=<hex>)`, 2);
  return { url, hash: m?.[2]!.toLowerCase(), dir: join(cacheRoot(), "models", sha256(url).slice(0, 16)) };
}

/** Where a remote model's model.json is cached. */
export const jsonPath = (r: RemoteModel): string => join(r.dir, "model.json");

/**
 * A weight path of model.json, checked to stay beside it: no scheme (another host), no absolute
 * path, no `..`. Returns the shard's URL and its cache path.
 */
export function shardLocation(r: RemoteModel, p: string): { url: string; path: string } {
  const refuse = (why: string): never => {
    throw new TlrunError(`${r.url}: weight path '${p}' ${why}; refused. A tfjs model's shards must sit in model.json's folder (paths such as 'group1-shard1of2.bin')`, 1);
  };
  if (/^[a-z][a-z0-9+.-]*:/i.test(p) || p.startsWith("//")) refuse("points at another location (a URL)");
  if (p.startsWith("/") || p.startsWith("\\")) refuse("is an absolute path");
  if (p.split(/[\\/]/).some((s) => s === "..")) refuse("leaves the model's folder (..)");
  const url = new URL(p, r.url);
  const base = new URL(".", r.url);
  if (url.origin !== base.origin || !url.pathname.startsWith(base.pathname)) refuse("leaves the model's folder");
  return { url: url.href, path: join(r.dir, decodeURIComponent(url.pathname.slice(base.pathname.length))) };
}

function readManifest(r: RemoteModel): Manifest {
  try {
    return JSON.parse(readFileSync(jsonPath(r), "utf8")) as Manifest;
  } catch (err) {
    throw new TlrunError(`${r.url}: not valid JSON (${(err as Error).message}); is it a tfjs model.json?`, 1);
  }
}

const shardPaths = (m: Manifest): string[] => (m.weightsManifest ?? []).flatMap((g) => g.paths ?? []);

/** Whether model.json and every shard are in the cache and checked; nothing is read but stamps. */
export function isRemoteModelCached(r: RemoteModel): boolean {
  const sha = stampedSha256(jsonPath(r));
  if (!sha || (r.hash && sha !== r.hash)) return false;
  return shardPaths(readManifest(r)).every((p) => stampedSha256(shardLocation(r, p).path) !== undefined);
}

/** Download model.json alone (validation and planning need only its topology). */
export async function fetchRemoteModelJson(r: RemoteModel, onProgress?: Progress): Promise<string> {
  const path = jsonPath(r);
  await download({ url: r.url, dest: path, hash: r.hash, onProgress });
  const m = readManifest(r);
  if (!m || typeof m !== "object" || !Array.isArray(m.weightsManifest))
    throw new TlrunError(`${r.url}: not a tfjs model.json (it has no weightsManifest)`, 1);
  shardPaths(m).forEach((p) => shardLocation(r, p));
  return path;
}

const BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1 };

/**
 * Download a tfjs model (model.json and its shards) into the shared cache once. model.json is
 * checked against the pinned sha256 (or has its sha256 recorded on first download, like
 * Keras' unhashed files); each shard resumes, retries, and has its sha256 recorded; the shards
 * together must hold exactly the bytes the weightsManifest describes.
 */
export async function fetchRemoteModel(r: RemoteModel, onProgress?: Progress): Promise<string> {
  const path = await fetchRemoteModelJson(r);
  const m = readManifest(r);
  let got = 0;
  for (const p of shardPaths(m)) {
    const loc = shardLocation(r, p);
    if (!existsSync(loc.path) || !stampedSha256(loc.path)) await download({ url: loc.url, dest: loc.path, hash: undefined, onProgress });
    got += readFileSync(loc.path).byteLength;
  }
  const want = (m.weightsManifest ?? []).flatMap((g) => g.weights ?? []).reduce((n, w) => n + (BYTES[w.dtype] ?? 4) * w.shape.reduce((a, b) => a * b, 1), 0);
  const quantized = JSON.stringify(m.weightsManifest).includes('"quantization"');
  if (!quantized && got !== want) {
    for (const p of shardPaths(m)) rmSync(shardLocation(r, p).path, { force: true }); // never cached as complete
    throw new TlrunError(`${r.url}: its shards hold ${got} bytes but the weightsManifest describes ${want}; the shards do not belong to this model.json or were cut short`, 1);
  }
  return path;
}
