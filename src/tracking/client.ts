import { call, MlflowError } from "./http";
import type { ServerSettings } from "./settings";

export interface Metric { key: string; value: number; timestamp: number; step: number }
export interface KeyValue { key: string; value: string }
export type RunStatus = "RUNNING" | "SCHEDULED" | "FINISHED" | "FAILED" | "KILLED";

export interface RunInfo {
  run_id: string;
  experiment_id: string;
  run_name?: string;
  status: RunStatus;
  start_time?: number;
  end_time?: number;
  artifact_uri: string;
  lifecycle_stage: string;
}

export interface Run {
  info: RunInfo;
  data: { metrics?: Metric[]; params?: KeyValue[]; tags?: KeyValue[] };
  inputs?: { dataset_inputs?: Array<{ dataset: DatasetInput["dataset"]; tags?: KeyValue[] }> };
}

export interface Experiment { experiment_id: string; name: string; lifecycle_stage: string; artifact_location?: string }

export interface DatasetInput {
  dataset: { name: string; digest: string; source_type: string; source: string; schema?: string; profile?: string };
  tags?: KeyValue[];
}

/** An MLflow 3 logged model (the entity the UI lists under a run's models); `artifact_location` is where its files go. */
export interface LoggedModelInfo {
  model_id: string;
  experiment_id: string;
  name: string;
  artifact_uri: string;
  status: string;
  source_run_id?: string;
}

export interface ArtifactFile { path: string; is_dir: boolean; file_size?: number }

const API = "/api/2.0/mlflow";

/** Numbers as MLflow's protobuf JSON expects: NaN and ±Infinity as strings. */
export function encodeDouble(v: number): number | string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "Infinity";
  if (v === -Infinity) return "-Infinity";
  return v;
}

/** A typed client for the MLflow tracking REST API (2.0) and the artifact proxy. */
export class MlflowClient {
  constructor(readonly server: ServerSettings) {}

  /** The experiment by name, or undefined when it does not exist. */
  async getExperimentByName(name: string): Promise<Experiment | undefined> {
    try {
      const r = await call<{ experiment: Experiment }>(this.server, { method: "GET", path: `${API}/experiments/get-by-name`, query: { experiment_name: name } });
      return r.experiment;
    } catch (e) {
      if (e instanceof MlflowError && e.code === "RESOURCE_DOES_NOT_EXIST") return undefined;
      throw e;
    }
  }

  async createExperiment(name: string): Promise<string> {
    const r = await call<{ experiment_id: string }>(this.server, { method: "POST", path: `${API}/experiments/create`, json: { name } });
    return r.experiment_id;
  }

  async createRun(experimentId: string, runName: string, startTime: number, tags: KeyValue[], userId?: string): Promise<RunInfo> {
    const r = await call<{ run: Run }>(this.server, {
      method: "POST", path: `${API}/runs/create`, retry: false,
      json: { experiment_id: experimentId, run_name: runName, start_time: startTime, tags, user_id: userId },
    });
    return r.run.info;
  }

  async getRun(runId: string): Promise<Run> {
    return (await call<{ run: Run }>(this.server, { method: "GET", path: `${API}/runs/get`, query: { run_id: runId } })).run;
  }

  async updateRun(runId: string, status: RunStatus, endTime?: number): Promise<void> {
    await call(this.server, { method: "POST", path: `${API}/runs/update`, json: { run_id: runId, status, end_time: endTime } });
  }

  /** Runs in the given experiments matching an MLflow filter string; all pages. */
  async searchRuns(experimentIds: string[], filter: string): Promise<Run[]> {
    const runs: Run[] = [];
    let page_token: string | undefined;
    do {
      const r = await call<{ runs?: Run[]; next_page_token?: string }>(this.server, {
        method: "POST", path: `${API}/runs/search`, json: { experiment_ids: experimentIds, filter, max_results: 1000, page_token },
      });
      runs.push(...(r.runs ?? []));
      page_token = r.next_page_token;
    } while (page_token);
    return runs;
  }

  /**
   * One log-batch request; the caller keeps within the limits (see limits.ts). Not retried here:
   * a metric batch applied twice would duplicate points, so sync.ts checks the history first.
   */
  async logBatch(runId: string, batch: { metrics?: Metric[]; params?: KeyValue[]; tags?: KeyValue[] }, retry = false): Promise<void> {
    const metrics = batch.metrics?.map((m) => ({ ...m, value: encodeDouble(m.value) }));
    await call(this.server, { method: "POST", path: `${API}/runs/log-batch`, retry, json: { run_id: runId, metrics, params: batch.params, tags: batch.tags } });
  }

  async setTag(runId: string, key: string, value: string): Promise<void> {
    await call(this.server, { method: "POST", path: `${API}/runs/set-tag`, json: { run_id: runId, key, value } });
  }

  async logInputs(runId: string, datasets: DatasetInput[]): Promise<void> {
    await call(this.server, { method: "POST", path: `${API}/runs/log-inputs`, json: { run_id: runId, datasets } });
  }

  /** Every point of one metric, all pages. */
  async getMetricHistory(runId: string, key: string): Promise<Metric[]> {
    const out: Metric[] = [];
    let page_token: string | undefined;
    do {
      const query: Record<string, string | number> = { run_id: runId, metric_key: key, max_results: 25000 };
      if (page_token) query.page_token = page_token;
      const r = await call<{ metrics?: Array<Omit<Metric, "value"> & { value: number | string }>; next_page_token?: string }>(this.server, { method: "GET", path: `${API}/metrics/get-history`, query });
      for (const m of r.metrics ?? []) out.push({ ...m, value: Number(m.value), step: Number(m.step ?? 0), timestamp: Number(m.timestamp) });
      page_token = r.next_page_token;
    } while (page_token);
    return out;
  }

  /** Upload one file through the server's artifact proxy (mlflow-artifacts:/ URIs only). */
  async uploadArtifact(run: Pick<RunInfo, "artifact_uri">, artifactPath: string, data: Uint8Array): Promise<void> {
    const m = /^mlflow-artifacts:(?:\/\/[^/]*)?\/(.+)$/.exec(run.artifact_uri);
    if (!m) throw new MlflowError(`the run's artifact location ${run.artifact_uri} is not served by the tracking server; start it with --artifacts-destination (or --serve-artifacts) so tlrun can upload through its proxy`, 400);
    const path = `/api/2.0/mlflow-artifacts/artifacts/${m[1]!.replace(/\/+$/, "")}/${artifactPath.split("/").map(encodeURIComponent).join("/")}`;
    await call(this.server, { method: "PUT", path, body: data, timeoutSeconds: Math.max(this.server.timeoutSeconds, 600) });
  }

  /** A logged model (status PENDING until finalized) produced by run `sourceRunId`. Not retried: a retry could make two. */
  async createLoggedModel(experimentId: string, name: string, sourceRunId: string, tags: KeyValue[], modelType?: string, params: KeyValue[] = []): Promise<LoggedModelInfo> {
    const r = await call<{ model: { info: LoggedModelInfo } }>(this.server, {
      method: "POST", path: `${API}/logged-models`, retry: false,
      json: { experiment_id: experimentId, name, source_run_id: sourceRunId, tags, model_type: modelType, params: params.slice(0, 100) },
    });
    // the server takes up to 100 params per request, as MLflow's own client sends them
    for (let i = 100; i < params.length; i += 100)
      await call(this.server, { method: "POST", path: `${API}/logged-models/${encodeURIComponent(r.model.info.model_id)}/params`, json: { model_id: r.model.info.model_id, params: params.slice(i, i + 100) } });
    return r.model.info;
  }

  async finalizeLoggedModel(modelId: string, status: "LOGGED_MODEL_READY" | "LOGGED_MODEL_UPLOAD_FAILED"): Promise<LoggedModelInfo> {
    const r = await call<{ model: { info: LoggedModelInfo } }>(this.server, { method: "PATCH", path: `${API}/logged-models/${encodeURIComponent(modelId)}`, json: { model_id: modelId, status } });
    return r.model.info;
  }

  async getLoggedModel(modelId: string): Promise<LoggedModelInfo> {
    return (await call<{ model: { info: LoggedModelInfo } }>(this.server, { method: "GET", path: `${API}/logged-models/${encodeURIComponent(modelId)}` })).model.info;
  }

  /** Logged models of the experiments matching an MLflow filter ("name = 'model'"); first page of up to 100. */
  async searchLoggedModels(experimentIds: string[], filter = ""): Promise<LoggedModelInfo[]> {
    const r = await call<{ models?: Array<{ info: LoggedModelInfo }> }>(this.server, { method: "POST", path: `${API}/logged-models/search`, json: { experiment_ids: experimentIds, filter, max_results: 100 } });
    return (r.models ?? []).map((m) => m.info);
  }

  /** Record `modelId` as an output of the run (what the run page's "Logged models" lists). */
  async logOutputs(runId: string, modelId: string, step = 0): Promise<void> {
    await call(this.server, { method: "POST", path: `${API}/runs/outputs`, json: { run_id: runId, models: [{ model_id: modelId, step }] } });
  }

  async listArtifacts(runId: string, path = ""): Promise<ArtifactFile[]> {
    const r = await call<{ files?: ArtifactFile[] }>(this.server, { method: "GET", path: `${API}/artifacts/list`, query: { run_id: runId, path } });
    return r.files ?? [];
  }
}
