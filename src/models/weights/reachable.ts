import { unreachableReason } from "./download";

/** How long a run waits for the weights server's first answer before calling the machine offline. */
export const PROBE_TIMEOUT_MS = 5000;

/**
 * Why `url` cannot be fetched from here, or undefined when a server answers for it. One HEAD
 * request, no retries: a name that does not resolve or a refused connection fails at once, a
 * server that stays silent fails after `timeoutMs`. A request that fails (or a 404 or 410: the
 * file is not there) counts; a server that answers anything else is left to the download, which
 * retries.
 */
export async function whyUnreachable(url: string, timeoutMs = PROBE_TIMEOUT_MS): Promise<string | undefined> {
  try {
    const res = await fetch(url, { method: "HEAD", redirect: "follow", signal: AbortSignal.timeout(timeoutMs) });
    await res.body?.cancel();
    if (res.status === 404 || res.status === 410) return `${new URL(url).host} has no such file (HTTP ${res.status})`;
    return undefined;
  } catch (err) {
    const e = err as Error;
    if (e.name === "TimeoutError" || e.name === "AbortError") return `${new URL(url).host} did not answer within ${timeoutMs / 1000} s; this machine looks offline`;
    const cause = (e as Error & { cause?: Error }).cause;
    return unreachableReason(url, e) ?? `${new URL(url).host} cannot be reached (${cause?.message ?? e.message})`;
  }
}
