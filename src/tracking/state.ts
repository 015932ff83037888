import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../util/atomic";
import type { HeldBy } from "./held-run";
import type { RunTarget } from "./settings";

/** What the run folder alone cannot tell: where it came from and where it should go. */
export interface TrackingContext {
  source_name: string;
  user: string;
  git_commit?: string;
  tlrun_version: string;
  target: RunTarget;
  /** A sweep trial's parent: the sweep's run folder, synced first so the child can name it. */
  parent_dir?: string;
}

/** What one server has acknowledged for this run. Ids come from journal.ts. */
export interface ServerState {
  experiment_id?: string;
  run_id?: string;
  artifact_uri?: string;
  acked: { metrics: string[]; params: string[]; tags: string[]; artifacts: string[]; inputs: string[]; status: string };
  /** Metric ids sent in a batch whose answer never came; checked against the server's history. */
  inflight: string[];
  /** Items the server refused with a 4xx, with its message; not sent again. */
  rejected: Array<{ id: string; message: string }>;
  last_error?: string;
  updated_at?: string;
  /** The run's MLflow Model (mlflow-model.ts): the logged model's id once created, ready once finalized, or skipped with why. */
  model?: { id?: string; status: "pending" | "ready" | "skipped"; note?: string };
  /** A fully cached run: the MLflow run that already holds its result (held-run.ts); nothing is sent. */
  held_by?: HeldBy;
  /** Nothing to send, and why: a completed sweep whose every trial was cached adds no run. */
  unsent?: string;
}

/** runs/<run-id>/mlflow.json: per server (keyed by URI without credentials), what it holds. */
export interface TrackingState {
  version: 1;
  context?: TrackingContext;
  servers: Record<string, ServerState>;
}

export const STATE_FILE = "mlflow.json";

export function loadState(dir: string): TrackingState {
  const path = join(dir, STATE_FILE);
  if (!existsSync(path)) return { version: 1, servers: {} };
  try {
    const s = JSON.parse(readFileSync(path, "utf8")) as TrackingState;
    return { version: 1, servers: s.servers ?? {}, context: s.context };
  } catch {
    return { version: 1, servers: {} };
  }
}

/** Written atomically: a crash leaves the previous state, never half a file. */
export function saveState(dir: string, state: TrackingState): void {
  writeFileAtomic(join(dir, STATE_FILE), JSON.stringify(state, null, 1));
}

export function serverState(state: TrackingState, uri: string): ServerState {
  return (state.servers[uri] ??= {
    acked: { metrics: [], params: [], tags: [], artifacts: [], inputs: [], status: "" },
    inflight: [],
    rejected: [],
  });
}
