import { request as httpsRequest } from "node:https";
import { redact, type ServerSettings } from "./settings";

/** An answer or failure from the MLflow server, with a message safe to print. */
export class MlflowError extends Error {
  constructor(
    message: string,
    /** HTTP status; 0 for network errors and timeouts. */
    readonly status: number,
    /** MLflow's error_code, such as INVALID_PARAMETER_VALUE. */
    readonly code: string = "",
  ) {
    super(redact(message));
    this.name = "MlflowError";
  }

  /** 408, 429, 5xx and network errors are worth retrying; other 4xx are the caller's fault. */
  get retryable(): boolean {
    return this.status === 0 || this.status === 408 || this.status === 429 || this.status >= 500;
  }
}

export interface RequestOptions {
  method: "GET" | "POST" | "PUT" | "PATCH";
  /** Path under the server root, e.g. /api/2.0/mlflow/runs/create. */
  path: string;
  query?: Record<string, string | number>;
  json?: unknown;
  body?: Uint8Array;
  /** Retry on retryable failures; false for requests that must not be applied twice. */
  retry?: boolean;
  timeoutSeconds?: number;
}

interface RawResponse {
  status: number;
  contentType: string;
  text: string;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms).unref?.());

/** One HTTP exchange: global fetch, or node:https when a CA bundle or insecure TLS is configured. */
async function send(s: ServerSettings, url: URL, method: string, headers: Record<string, string>, body: Uint8Array | undefined, timeoutMs: number): Promise<RawResponse> {
  if (url.protocol === "https:" && (s.ca || s.insecure)) {
    return new Promise((resolve, reject) => {
      const req = httpsRequest(url, { method, headers, ca: s.ca, rejectUnauthorized: !s.insecure, timeout: timeoutMs }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, contentType: String(res.headers["content-type"] ?? ""), text: Buffer.concat(chunks).toString("utf8") }));
        res.on("error", reject);
      });
      req.on("timeout", () => req.destroy(new Error(`timed out after ${timeoutMs / 1000}s`)));
      req.on("error", reject);
      req.end(body);
    });
  }
  const res = await fetch(url, { method, headers, body, signal: AbortSignal.timeout(timeoutMs) });
  return { status: res.status, contentType: res.headers.get("content-type") ?? "", text: await res.text() };
}

function describeFailure(res: RawResponse, what: string): MlflowError {
  let parsed: { error_code?: string; message?: string } | undefined;
  try {
    parsed = JSON.parse(res.text);
  } catch {
    /* not JSON: a proxy's page, say so */
  }
  if (parsed && (parsed.error_code || parsed.message))
    return new MlflowError(`${what}: HTTP ${res.status} ${parsed.error_code ?? ""}: ${parsed.message ?? ""}`.trim(), res.status, parsed.error_code ?? "");
  const snippet = res.text.replace(/<[^>]*>/g, " ").replace(/\s+/g, " ").trim().slice(0, 160);
  return new MlflowError(`${what}: HTTP ${res.status}, not an MLflow answer (${res.contentType || "no content type"}): ${snippet}`, res.status);
}

/** The error with the server's own credentials (which may be echoed back by a proxy) blanked out. */
function scrub(err: MlflowError, s: ServerSettings): MlflowError {
  const [scheme, value] = (s.authorization ?? "").split(" ");
  const secrets = scheme === "Basic" && value ? [Buffer.from(value, "base64").toString().split(":").slice(1).join(":"), value] : value ? [value] : [];
  let message = err.message;
  for (const x of secrets.filter((x) => x.length >= 3)) message = message.split(x).join("***");
  return message === err.message ? err : new MlflowError(message, err.status, err.code);
}

/**
 * Call the server and return its parsed JSON answer. Retries 408, 429, 5xx and network errors
 * with exponential backoff when `retry` is on; throws MlflowError with a printable message.
 */
export async function call<T>(s: ServerSettings, o: RequestOptions): Promise<T> {
  const url = new URL(s.uri + o.path);
  for (const [k, v] of Object.entries(o.query ?? {})) url.searchParams.set(k, String(v));
  const headers: Record<string, string> = {};
  if (s.authorization) headers.authorization = s.authorization;
  let body = o.body;
  if (o.json !== undefined) {
    headers["content-type"] = "application/json";
    body = Buffer.from(JSON.stringify(o.json));
  } else if (body) headers["content-type"] = "application/octet-stream";
  const what = `${o.method} ${o.path}`;
  const attempts = o.retry === false ? 1 : s.maxRetries + 1;
  for (let attempt = 1; ; attempt++) {
    let err: MlflowError;
    try {
      const res = await send(s, url, o.method, headers, body, (o.timeoutSeconds ?? s.timeoutSeconds) * 1000);
      if (res.status >= 200 && res.status < 300) {
        if (!res.text.trim()) return {} as T;
        try {
          return JSON.parse(res.text) as T;
        } catch {
          throw scrub(describeFailure(res, what), s);
        }
      }
      err = describeFailure(res, what);
    } catch (e) {
      if (e instanceof MlflowError) throw e;
      const cause = (e as { cause?: { code?: string; message?: string } }).cause;
      const detail = (e as Error).name === "TimeoutError" ? `timed out after ${o.timeoutSeconds ?? s.timeoutSeconds}s` : cause?.code ?? cause?.message ?? (e as Error).message;
      err = new MlflowError(`${what}: cannot reach ${s.uri} (${detail})`, 0);
    }
    if (!err.retryable || attempt >= attempts) throw scrub(err, s);
    await sleep(s.backoffSeconds * 1000 * 2 ** (attempt - 1));
  }
}
