import { readFileSync } from "node:fs";
import type { TrackingConfig } from "../config/types";

/** How to reach an MLflow server, resolved from the environment the way MLflow's clients do. */
export interface ServerSettings {
  /** Base URL without credentials, e.g. http://127.0.0.1:5000. */
  uri: string;
  /** Where acknowledgements are filed in mlflow.json; the URI unless the store has a steadier name. */
  key?: string;
  /** Authorization header value, never logged or stored. */
  authorization?: string;
  /** PEM CA bundle from MLFLOW_TRACKING_SERVER_CERT_PATH. */
  ca?: string;
  /** MLFLOW_TRACKING_INSECURE_TLS=true skips certificate checks. */
  insecure: boolean;
  /** Seconds per request (MLFLOW_HTTP_REQUEST_TIMEOUT, default 120 like MLflow). */
  timeoutSeconds: number;
  /** Retries on 408, 429, 5xx and network errors (MLFLOW_HTTP_REQUEST_MAX_RETRIES). */
  maxRetries: number;
  /** Base backoff in seconds, doubled per attempt (MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR). */
  backoffSeconds: number;
}

/** What the run is called and where it goes on the server. */
export interface RunTarget {
  experiment: string;
  runName: string;
  tags: Record<string, string>;
}

type Env = Record<string, string | undefined>;

const truthy = (v: string | undefined): boolean => /^(1|true|yes)$/i.test(v ?? "");
const num = (v: string | undefined, d: number): number => (v !== undefined && v !== "" && Number.isFinite(Number(v)) ? Number(v) : d);

/**
 * The server from MLFLOW_TRACKING_URI, or undefined when it is unset or not http(s) (a local
 * `file:` or `sqlite:` store is MLflow's own business; the run folder is tlrun's journal).
 */
export function serverFromEnv(env: Env = process.env, uriOverride?: string): ServerSettings | undefined {
  const raw = uriOverride ?? env.MLFLOW_TRACKING_URI;
  if (!raw || !/^https?:\/\//i.test(raw)) return undefined;
  const url = new URL(raw);
  let authorization: string | undefined;
  const user = env.MLFLOW_TRACKING_USERNAME ?? decodeURIComponent(url.username);
  const pass = env.MLFLOW_TRACKING_PASSWORD ?? decodeURIComponent(url.password);
  if (env.MLFLOW_TRACKING_TOKEN) authorization = `Bearer ${env.MLFLOW_TRACKING_TOKEN}`;
  else if (user) authorization = `Basic ${Buffer.from(`${user}:${pass}`).toString("base64")}`;
  url.username = "";
  url.password = "";
  const certPath = env.MLFLOW_TRACKING_SERVER_CERT_PATH;
  return {
    uri: url.toString().replace(/\/+$/, ""),
    authorization,
    ca: certPath ? readFileSync(certPath, "utf8") : undefined,
    insecure: truthy(env.MLFLOW_TRACKING_INSECURE_TLS),
    timeoutSeconds: num(env.MLFLOW_HTTP_REQUEST_TIMEOUT, 120),
    maxRetries: num(env.MLFLOW_HTTP_REQUEST_MAX_RETRIES, 7),
    backoffSeconds: num(env.MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR, 2) / 4,
  };
}

/** Experiment, run name and tags: the YAML `tracking:` block, overridden by the environment. */
export function targetFrom(tracking: TrackingConfig | undefined, pipelineName: string, runId: string, env: Env = process.env): RunTarget {
  return {
    experiment: env.MLFLOW_EXPERIMENT_NAME || tracking?.experiment || pipelineName,
    runName: env.MLFLOW_RUN_NAME || tracking?.run_name || "", // a template, filled in when the run is created (run-name.ts)
    tags: { ...(tracking?.tags ?? {}) },
  };
}

/** Every secret a server setting holds, for scrubbing messages. */
export function secretsOf(env: Env = process.env): string[] {
  return [env.MLFLOW_TRACKING_TOKEN, env.MLFLOW_TRACKING_PASSWORD].filter((s): s is string => !!s && s.length > 0);
}

/** Replace every known secret in a message with ***. */
export function redact(message: string, env: Env = process.env): string {
  let out = message;
  for (const s of secretsOf(env)) out = out.split(s).join("***");
  return out.replace(/\/\/[^/@\s]+:[^/@\s]+@/g, "//***@");
}
