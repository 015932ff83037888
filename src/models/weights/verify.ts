import { createHash } from "node:crypto";
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { TlrunError } from "../../errors";
import { fileDigests } from "../../util/hash";

export type HashKind = "md5" | "sha256";

/** md5 for 32 hex digits (Keras' published `file_hash` values), sha256 for 64, like Keras' get_file. */
export function hashKind(hex: string): HashKind {
  if (/^[0-9a-f]{32}$/i.test(hex)) return "md5";
  if (/^[0-9a-f]{64}$/i.test(hex)) return "sha256";
  throw new TlrunError(`'${hex}' is not an md5 (32 hex digits) or sha256 (64 hex digits) hash`, 2);
}

export async function fileDigest(path: string, kind: HashKind): Promise<string> {
  return (await fileDigests(path, [kind]))[kind];
}

/** The record beside a cached file that lets later calls skip re-hashing it. */
interface Stamp {
  size: number;
  mtimeMs: number;
  hash: string;
  sha256: string;
}

const stampPath = (path: string): string => `${path}.verified.json`;

function readStamp(path: string): Stamp | undefined {
  try {
    const s = JSON.parse(readFileSync(stampPath(path), "utf8")) as Stamp;
    const st = statSync(path);
    return s.size === st.size && s.mtimeMs === st.mtimeMs ? s : undefined;
  } catch {
    return undefined;
  }
}

/** Record that `path` was checked against `hash` (and its sha256, which identifies it in run records). */
export async function markVerified(path: string, hash: string): Promise<Stamp> {
  const st = statSync(path);
  const sha256 = hashKind(hash) === "sha256" ? hash.toLowerCase() : await fileDigest(path, "sha256");
  const stamp = { size: st.size, mtimeMs: st.mtimeMs, hash: hash.toLowerCase(), sha256 };
  writeFileSync(stampPath(path), JSON.stringify(stamp));
  return stamp;
}

/** Whether `path` matches `hash`: the stamp when size and mtime are unchanged (cheapest first), else a full hash. */
export async function isVerified(path: string, hash: string): Promise<boolean> {
  if (readStamp(path)?.hash === hash.toLowerCase()) return true;
  const ok = (await fileDigest(path, hashKind(hash))) === hash.toLowerCase();
  if (ok) await markVerified(path, hash);
  else rmSync(stampPath(path), { force: true });
  return ok;
}

/** The sha256 of a verified cached file, without reading it when its stamp is current. */
export function stampedSha256(path: string): string | undefined {
  return existsSync(path) ? readStamp(path)?.sha256 : undefined;
}

/** The sha256 of a file: from its stamp when it is a checked cache file, else hashed now. */
export function sha256Sync(path: string): string {
  return stampedSha256(path) ?? createHash("sha256").update(readFileSync(path)).digest("hex");
}
