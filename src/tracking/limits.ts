import type { KeyValue, Metric } from "./client";

/** The MLflow 3 server's limits (mlflow/utils/validation.py). */
export const LIMITS = {
  metricsPerBatch: 1000,
  paramsPerBatch: 100,
  tagsPerBatch: 100,
  /** Request bodies above 1 MB are refused; stay well below. */
  batchBytes: 900_000,
  keyLength: 250,
  paramValueLength: 6000,
  tagValueLength: 8000,
} as const;

/** Allowed key characters on POSIX servers: alphanumerics, _ - . space : and /. */
const KEY_CHARS = /[^\w.\- :/]/g;

/**
 * A key MLflow accepts: bad characters become `_`, `..` segments and leading slashes go, and it
 * is cut to 250 characters. Returns the key unchanged when it was already valid.
 */
export function sanitizeKey(key: string): string {
  let k = key.replace(KEY_CHARS, "_").replace(/\/{2,}/g, "/").replace(/^\/+|\/+$/g, "");
  k = k.split("/").map((s) => (s === "." || s === ".." ? "_" : s)).join("/");
  if (!k) k = "_";
  return k.slice(0, LIMITS.keyLength);
}

/** Cut a value to `limit` characters the way MLFLOW_TRUNCATE_LONG_VALUES does. */
export function truncate(value: string, limit: number): string {
  return value.length <= limit ? value : value.slice(0, limit);
}

export interface Batch {
  metrics: Metric[];
  params: KeyValue[];
  tags: KeyValue[];
}

/** Split items into log-batch requests within the count and size limits. */
export function chunkBatches(items: Partial<Batch>): Batch[] {
  const out: Batch[] = [];
  let cur: Batch = { metrics: [], params: [], tags: [] };
  let bytes = 0;
  const push = <K extends keyof Batch>(kind: K, item: Batch[K][number], max: number): void => {
    const size = JSON.stringify(item).length + 1;
    if ((cur[kind] as unknown[]).length >= max || bytes + size > LIMITS.batchBytes) {
      out.push(cur);
      cur = { metrics: [], params: [], tags: [] };
      bytes = 0;
    }
    (cur[kind] as unknown[]).push(item);
    bytes += size;
  };
  for (const p of items.params ?? []) push("params", p, LIMITS.paramsPerBatch);
  for (const t of items.tags ?? []) push("tags", t, LIMITS.tagsPerBatch);
  for (const m of items.metrics ?? []) push("metrics", m, LIMITS.metricsPerBatch);
  if (cur.metrics.length + cur.params.length + cur.tags.length) out.push(cur);
  return out;
}
