import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";

/** JSON with object keys sorted at every level, so equal records hash equally. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value).sort()) out[k] = sortKeys((value as Record<string, unknown>)[k]);
    return out;
  }
  return value;
}

export function sha256(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

export function hashRecord(value: unknown): string {
  return sha256(canonicalJson(value));
}

/** Several digests of a file (hex), in one streaming read. */
export function fileDigests<K extends "md5" | "sha256">(path: string, kinds: readonly K[]): Promise<Record<K, string>> {
  const hashes = kinds.map((k) => [k, createHash(k)] as const);
  return new Promise((resolve, reject) => {
    createReadStream(path)
      .on("data", (chunk) => hashes.forEach(([, h]) => h.update(chunk)))
      .on("error", reject)
      .on("end", () => resolve(Object.fromEntries(hashes.map(([k, h]) => [k, h.digest("hex")])) as Record<K, string>));
  });
}
