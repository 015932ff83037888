import { closeSync, existsSync, mkdirSync, openSync, renameSync, rmSync, statSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import { TlrunError } from "../../errors";
import { fileDigest, hashKind, isVerified, markVerified, stampedSha256 } from "./verify";

/** Bytes received so far and the file's size when the server says it. */
export type Progress = (received: number, total: number | undefined) => void;

export interface DownloadOptions {
  url: string;
  /** Final path; the bytes arrive in `<dest>.partial` first and are renamed when checked. */
  dest: string;
  /**
   * Expected hex digest: 32 digits is md5 (Keras' `file_hash`), 64 is sha256. Undefined only for
   * files whose publisher gives no hash: the first complete download is kept and its sha256 recorded.
   */
  hash: string | undefined;
  onProgress?: Progress;
  /** Attempts after the first for network errors, cut connections and 5xx/429 replies. */
  retries?: number;
  /** First backoff delay; it doubles on every retry. */
  backoffMs?: number;
  /** Give up on a connection that sends nothing for this long. */
  stallMs?: number;
}

export interface DownloadResult {
  path: string;
  /** false when the file was already in the cache and no request was made. */
  downloaded: boolean;
}

/** A failure worth another attempt (the partial file is kept, so the next one resumes). */
class Transient extends Error {}

/** Network error codes that mean the host cannot be reached at all: retrying in seconds will not help. */
const UNREACHABLE = new Set(["ENOTFOUND", "EAI_AGAIN", "EAI_NONAME", "ECONNREFUSED", "ENETUNREACH", "EHOSTUNREACH", "ENETDOWN", "UND_ERR_CONNECT_TIMEOUT"]);

/**
 * The server cannot be reached (no DNS, connection refused, no route): the download stops at
 * once instead of retrying, and callers turn it into advice on getting the file another way.
 * Any partial file is kept, so a later download resumes.
 */
export class Unreachable extends TlrunError {
  constructor(
    readonly url: string,
    /** "tlrun-offline.invalid cannot be resolved (getaddrinfo ENOTFOUND)". */
    readonly reason: string,
  ) {
    super(`cannot download ${url}: ${reason}`, 1);
  }
}

/** Why `url` cannot be reached, when `e` (a rejected fetch) says it cannot; undefined for other failures. */
export function unreachableReason(url: string, e: Error): string | undefined {
  const cause = (e as Error & { cause?: Error & { code?: string } }).cause;
  const code = cause?.code ?? (e as Error & { code?: string }).code;
  if (!code || !UNREACHABLE.has(code)) return undefined;
  const host = new URL(url).host;
  if (code.startsWith("EAI_") || code === "ENOTFOUND") return `${new URL(url).hostname} cannot be resolved (${cause?.message ?? code}); this machine looks offline`;
  if (code === "ECONNREFUSED") return `${host} refused the connection (${code})`;
  if (code === "UND_ERR_CONNECT_TIMEOUT") return `${host} did not answer the connection (${code}); this machine looks offline`;
  return `${host} cannot be reached (${code}); this machine looks offline`;
}

/**
 * Fetch `url` into `dest` once: a cached file whose hash matches is returned without a request;
 * otherwise the download resumes from `<dest>.partial` with an HTTP Range request, retries
 * transient failures with exponential backoff, checks the hash, and renames into place.
 * A hash mismatch deletes the file and throws; a server that cannot be reached throws
 * `Unreachable` at once.
 */
export async function download(opts: DownloadOptions): Promise<DownloadResult> {
  const { dest, url } = opts;
  if (opts.hash) hashKind(opts.hash); // fail early on a malformed hash
  if (existsSync(dest)) {
    if (opts.hash ? await isVerified(dest, opts.hash) : stampedSha256(dest)) return { path: dest, downloaded: false };
    rmSync(dest, { force: true }); // a corrupt cache entry is a miss, not a crash
  }
  mkdirSync(dirname(dest), { recursive: true });
  const partial = `${dest}.partial`;
  const retries = opts.retries ?? 4;
  for (let attempt = 0; ; attempt++) {
    try {
      await fetchInto(partial, opts);
      break;
    } catch (err) {
      if (!(err instanceof Transient) || attempt >= retries)
        throw err instanceof Transient ? new TlrunError(`download of ${url} failed after ${attempt + 1} attempts: ${err.message}`, 1) : err;
      await new Promise((r) => setTimeout(r, (opts.backoffMs ?? 1000) * 2 ** attempt));
    }
  }
  const got = opts.hash ? await fileDigest(partial, hashKind(opts.hash)) : undefined;
  if (opts.hash && got !== opts.hash.toLowerCase()) {
    rmSync(partial, { force: true });
    throw new TlrunError(`${url}: ${hashKind(opts.hash)} mismatch: expected ${opts.hash}, got ${got}; the downloaded file was deleted`, 1);
  }
  renameSync(partial, dest);
  await markVerified(dest, opts.hash ?? (await fileDigest(dest, "sha256")));
  return { path: dest, downloaded: true };
}

/** One attempt: append to `partial` from where it ends, until the server says the file is complete. */
async function fetchInto(partial: string, opts: DownloadOptions): Promise<void> {
  const have = existsSync(partial) ? statSync(partial).size : 0;
  const ctrl = new AbortController();
  const stall = opts.stallMs ?? 30_000;
  let timer = setTimeout(() => ctrl.abort(), stall);
  const poke = (): void => {
    clearTimeout(timer);
    timer = setTimeout(() => ctrl.abort(), stall);
  };
  let fd: number | undefined;
  try {
    const res = await fetch(opts.url, { headers: have ? { range: `bytes=${have}-` } : {}, signal: ctrl.signal, redirect: "follow" }).catch((e: Error) => {
      const unreachable = unreachableReason(opts.url, e);
      throw unreachable ? new Unreachable(opts.url, unreachable) : new Transient(describe(e));
    });
    if (res.status === 416) {
      rmSync(partial, { force: true }); // the partial file is longer than the file: start over
      throw new Transient("the server refused to resume (HTTP 416)");
    }
    if (res.status >= 500 || res.status === 429 || res.status === 408) throw new Transient(`HTTP ${res.status} ${res.statusText}`);
    if (!res.ok) throw new TlrunError(`${opts.url}: HTTP ${res.status} ${res.statusText}`, 1);
    if ((res.headers.get("content-type") ?? "").includes("text/html"))
      throw new TlrunError(`${opts.url}: the server sent an HTML page instead of the file (a login or error page?)`, 1);
    const resumed = res.status === 206;
    const length = Number(res.headers.get("content-length") ?? NaN);
    const total = Number.isFinite(length) ? length + (resumed ? have : 0) : undefined;
    fd = openSync(partial, resumed ? "a" : "w");
    let received = resumed ? have : 0;
    opts.onProgress?.(received, total);
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        writeSync(fd, chunk);
        received += chunk.byteLength;
        poke();
        opts.onProgress?.(received, total);
      }
    } catch (e) {
      throw new Transient(`connection lost at ${received} bytes (${describe(e as Error)})`);
    }
    if (total !== undefined && received !== total) throw new Transient(`connection closed at ${received} of ${total} bytes`);
  } finally {
    clearTimeout(timer);
    if (fd !== undefined) closeSync(fd);
  }
}

function describe(e: Error): string {
  const cause = (e as Error & { cause?: Error }).cause;
  if (e.name === "AbortError") return "no data received for too long";
  return cause?.message ? `${e.message}: ${cause.message}` : e.message;
}
