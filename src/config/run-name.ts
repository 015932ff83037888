import type { PipelineConfig } from "./types";

/**
 * `tracking.run_name` is a template: the MLflow UI cuts long names, so the default puts what tells
 * runs apart first: the pipeline, a short hash of the resolved config, and how many runs of that
 * config came before.
 */
export const RUN_NAME_PLACEHOLDERS: Record<string, string> = {
  name: "the pipeline's name",
  hash: "the first 7 hex digits of the resolved config's sha256 (tag tlrun.config_sha256)",
  n: "1 for the first MLflow run of this config in the experiment, 2 for the next, …",
  seed: "the run's seed",
  run_id: "the local run id (runs/<run-id>)",
};

export const DEFAULT_RUN_NAME = "{name}-{hash}-{n}";

const PLACEHOLDER = /\{([^{}]*)\}/g;

/** The placeholders a template uses. */
export const placeholdersOf = (template: string): string[] => [...template.matchAll(PLACEHOLDER)].map((m) => m[1]!);

/** The name a template gives; a placeholder without a value is left as written. */
export function renderRunName(template: string, values: Record<string, string | number | undefined>): string {
  return template.replace(PLACEHOLDER, (all, key: string) => (values[key] === undefined ? all : String(values[key])));
}

/** Rule: tracking.run_name uses only known placeholders. */
export function checkRunName(c: PipelineConfig): Array<{ path: string; message: string; hint?: string }> {
  const unknown = placeholdersOf(c.tracking.run_name).filter((p) => !(p in RUN_NAME_PLACEHOLDERS));
  if (!unknown.length) return [];
  const known = Object.keys(RUN_NAME_PLACEHOLDERS).map((k) => `{${k}}`).join(" ");
  return [{ path: "tracking.run_name", message: `tracking.run_name uses ${unknown.map((u) => `{${u}}`).join(", ")}, which is not a placeholder; the placeholders are ${known}`, hint: `e.g. run_name: "${DEFAULT_RUN_NAME}"` }];
}
