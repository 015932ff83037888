import { userInfo } from "node:os";
import { TLRUN_VERSION } from "../util/version";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { FileLock } from "../util/lock";
import type { TrackingConfig } from "../config/types";
import { MlflowError } from "./http";
import type { KeyValue, Metric, MlflowClient, RunStatus } from "./client";
import { buildMlflowModel, MLFLOW_MODEL_NAME, modelUploads } from "./mlflow-model";
import { TlrunError } from "../errors";
import { artifactsOf, datasetOf, metricsOf, paramsOf, readJournal, tagsOf, type Journal, type Keyed } from "./journal";
import { chunkBatches } from "./limits";
import { findHolder, fullyCached, heldNote, type HeldBy } from "./held-run";
import { renderPlots } from "./plots";
import { runNameFor } from "./run-name";
import { targetFrom } from "./settings";
import { loadState, saveState, serverState, type ServerState, type TrackingContext, type TrackingState } from "./state";

export { TLRUN_VERSION };

/** What one sync pass did. `pending` counts items the server has not acknowledged yet. */
export interface SyncResult {
  runId: string;
  serverRunId?: string;
  sent: { metrics: number; params: number; tags: number; artifacts: number; inputs: number; models: number };
  rejected: string[];
  notes: string[];
  pending: number;
  status?: RunStatus;
  /** A fully cached run sends nothing: this MLflow run already holds its result. */
  heldBy?: HeldBy;
}

/**
 * MLflow has no "pruned": a trial ASHA stopped early is KILLED (stopped before its planned end,
 * not FAILED, and not FINISHED, which would pass it for a full run in the runs table); its
 * tlrun.status tag, "pruned", tells it apart from a run stopped with Ctrl-C ("interrupted").
 */
const STATUS: Record<string, RunStatus | undefined> = { completed: "FINISHED", pruned: "KILLED", failed: "FAILED", interrupted: "KILLED" };
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms).unref?.());

/** The context a run folder implies when the run was not made with a tracker attached. */
export function contextFor(j: Journal): TrackingContext {
  const name = String(j.config.name ?? j.runId);
  return {
    source_name: name,
    user: safeUser(),
    tlrun_version: TLRUN_VERSION,
    target: targetFrom(j.config.tracking as TrackingConfig | undefined, name, j.runId),
  };
}

export function safeUser(): string {
  try {
    return process.env.USER || userInfo().username;
  } catch {
    return "unknown";
  }
}

/** A sync of one run folder to one server; each step acknowledges what it sent before the next. */
class Pass {
  readonly s: ServerState;
  readonly result: SyncResult;
  ctx: TrackingContext;

  constructor(readonly j: Journal, readonly state: TrackingState, readonly client: MlflowClient) {
    this.s = serverState(state, stateKey(client));
    this.ctx = state.context ?? contextFor(j);
    this.result = { runId: j.runId, sent: { metrics: 0, params: 0, tags: 0, artifacts: 0, inputs: 0, models: 0 }, rejected: [], notes: [], pending: 0 };
  }

  save(): void {
    this.s.updated_at = new Date().toISOString();
    saveState(this.j.dir, this.state);
  }

  unacked<T extends { id: string }>(items: T[], acked: string[]): T[] {
    const done = new Set([...acked, ...this.s.rejected.map((r) => r.id)]);
    return items.filter((i) => !done.has(i.id));
  }

  reject(id: string, err: unknown): void {
    const message = err instanceof Error ? err.message : String(err);
    this.s.rejected.push({ id, message });
    this.result.rejected.push(`${id}: ${message}`);
    this.save();
  }

  /**
   * The MLflow run for this local run: found by its tlrun.run_id tag, or created; undefined for a
   * fully cached run whose result another run already holds (held-run.ts).
   */
  async ensureRun(): Promise<string | undefined> {
    if (this.s.run_id) return this.s.run_id;
    if (this.s.held_by || this.s.unsent) return undefined;
    const { experiment, runName } = this.ctx.target;
    let exp = await this.client.getExperimentByName(experiment);
    if (exp?.lifecycle_stage === "deleted")
      throw new MlflowError(`experiment '${experiment}' is deleted on ${this.client.server.uri}; restore it ('mlflow experiments restore') or set MLFLOW_EXPERIMENT_NAME / tracking.experiment to another name`, 400, "EXPERIMENT_DELETED");
    const experimentId = exp?.experiment_id ?? (await this.client.createExperiment(experiment).catch(async (e) => {
      exp = await this.client.getExperimentByName(experiment); // created meanwhile by another process
      if (!exp) throw e;
      return exp.experiment_id;
    }));
    const found = await this.client.searchRuns([experimentId], `tags.\`tlrun.run_id\` = '${this.j.runId}'`);
    const holder = !found[0] && fullyCached(this.j) ? await findHolder(this.client, experimentId, this.j) : undefined;
    if (holder) {
      this.s.held_by = holder;
      this.save();
      return undefined;
    }
    if (!found[0]) await this.linkParent();
    const parent = this.ctx.target.tags["mlflow.parentRunId"];
    const tags = [{ key: "tlrun.run_id", value: this.j.runId }, { key: "mlflow.user", value: this.ctx.user }, ...(parent ? [{ key: "mlflow.parentRunId", value: parent }] : [])];
    const info = found[0]?.info ?? (await this.client.createRun(experimentId, await runNameFor(this.client, experimentId, this.j, runName), Date.parse(this.j.summary.started_at), tags, this.ctx.user));
    Object.assign(this.s, { experiment_id: experimentId, run_id: info.run_id, artifact_uri: info.artifact_uri });
    this.save();
    return info.run_id;
  }

  /** Acknowledge in-flight metric points the server already holds; forget the rest. */
  async reconcile(runId: string): Promise<void> {
    if (!this.s.inflight.length) return;
    const byKey = new Map<string, Set<string>>();
    for (const id of this.s.inflight) {
      const key = id.slice(0, id.lastIndexOf("@"));
      if (!byKey.has(key)) byKey.set(key, new Set((await this.client.getMetricHistory(runId, key)).map((m) => `${m.key}@${m.step}`)));
    }
    for (const id of this.s.inflight) if (byKey.get(id.slice(0, id.lastIndexOf("@")))!.has(id)) this.s.acked.metrics.push(id);
    this.s.inflight = [];
    this.save();
  }

  /** Params or tags: idempotent on the server, so plain retries are safe; 4xx batches are split to find the bad item. */
  async sendKeyValues(kind: "params" | "tags", runId: string, items: Array<Keyed<KeyValue>>): Promise<void> {
    for (const batch of chunkBatches({ [kind]: items })) {
      const list = batch[kind] as Array<Keyed<KeyValue>>;
      const body = (l: Array<Keyed<KeyValue>>) => ({ [kind]: l.map(({ key, value }) => ({ key, value })) });
      try {
        await this.client.logBatch(runId, body(list), true);
        this.s.acked[kind].push(...list.map((i) => i.id));
      } catch (e) {
        if (!(e instanceof MlflowError) || e.retryable) throw e;
        for (const item of list) {
          try {
            await this.client.logBatch(runId, body([item]), true);
            this.s.acked[kind].push(item.id);
          } catch (e1) {
            if (!(e1 instanceof MlflowError) || e1.retryable) throw e1;
            this.reject(`${kind}:${item.key}`, e1);
            this.s.acked[kind].push(item.id);
          }
        }
      }
      this.result.sent[kind] += list.length;
      this.save();
    }
  }

  /** Metric points are not idempotent: mark them in flight, and after a failure resend only what the history lacks. */
  async sendMetrics(runId: string, batch: Array<Keyed<Metric>>): Promise<void> {
    let pending = batch;
    for (let attempt = 1; pending.length; attempt++) {
      this.s.inflight = pending.map((m) => m.id);
      this.save();
      try {
        await this.client.logBatch(runId, { metrics: pending.map(({ key, value, timestamp, step }) => ({ key, value, timestamp, step })) });
        this.s.acked.metrics.push(...this.s.inflight);
        this.s.inflight = [];
        this.result.sent.metrics += pending.length;
        this.save();
        return;
      } catch (e) {
        if (e instanceof MlflowError && !e.retryable) {
          this.s.inflight = []; // a refused batch is validated whole before anything is stored
          if (pending.length === 1) this.reject(`metric:${pending[0]!.id}`, e), this.s.acked.metrics.push(pending[0]!.id);
          else for (const m of pending) await this.sendMetrics(runId, [m]);
          this.save();
          return;
        }
        if (attempt > this.client.server.maxRetries) throw e;
        await sleep(this.client.server.backoffSeconds * 1000 * 2 ** (attempt - 1));
        await this.reconcile(runId);
        const acked = new Set(this.s.acked.metrics);
        pending = pending.filter((m) => !acked.has(m.id));
      }
    }
  }

  async sendArtifacts(): Promise<void> {
    await renderPlots(this.j);
    for (const a of this.unacked(artifactsOf(this.j), this.s.acked.artifacts)) {
      try {
        await this.client.uploadArtifact({ artifact_uri: this.s.artifact_uri! }, a.path, a.data ?? readFileSync(a.file));
        this.result.sent.artifacts++;
      } catch (e) {
        if (!(e instanceof MlflowError) || e.retryable) throw e;
        this.reject(`artifact:${a.path}`, e);
      }
      this.s.acked.artifacts.push(a.id);
      this.save();
    }
  }

  /** Whether the run has a model to log as an MLflow Model that this server does not hold yet. */
  modelPending(): boolean {
    const m = this.s.model;
    return this.j.summary.status === "completed" && existsSync(join(this.j.dir, "model", "model.json")) && m?.status !== "ready" && m?.status !== "skipped";
  }

  /**
   * Log the run's model as an MLflow Model (mlflow-model.ts): a logged model named "model" made by
   * this run, its files uploaded to the model's artifact location, recorded as the run's output,
   * then finalized. `runs:/<id>/model` resolves to it. A model with no ONNX form is skipped with
   * a note, once.
   */
  async sendModel(runId: string): Promise<void> {
    if (!this.modelPending()) return;
    let built;
    try {
      built = await buildMlflowModel(this.j.dir);
    } catch (e) {
      if (!(e instanceof TlrunError)) throw e;
      this.s.model = { status: "skipped", note: `the model was not logged as an MLflow Model: ${e.message}` };
      this.result.notes.push(this.s.model.note!);
      this.save();
      return;
    }
    try {
      const model = this.s.model?.id ? await this.client.getLoggedModel(this.s.model.id) : await this.findOrCreateModel(runId);
      this.s.model = { id: model.model_id, status: "pending" };
      this.save();
      for (const f of modelUploads(built, { modelId: model.model_id, runId, artifactUri: model.artifact_uri }))
        await this.client.uploadArtifact({ artifact_uri: model.artifact_uri }, f.path, f.data);
      await this.client.logOutputs(runId, model.model_id);
      await this.client.finalizeLoggedModel(model.model_id, "LOGGED_MODEL_READY");
      this.s.model = { id: model.model_id, status: "ready" };
      this.result.sent.models++;
    } catch (e) {
      if (!(e instanceof MlflowError) || e.retryable) throw e; // stays pending: the next sync tries again
      // refused for good, e.g. a server before MLflow 3 has no logged-models API
      this.s.model = { ...this.s.model, status: "skipped", note: `the server refused the MLflow Model: ${e.message}` };
      this.reject("model", e);
    }
    this.save();
  }

  /**
   * The run's logged model: one the server already has (made by a sync that crashed before saving
   * its id), or a new one. Creating is not idempotent, so a failed create is retried only after a
   * search shows it did not happen; the conversion before it can leave an idle socket the server
   * has closed.
   */
  async findOrCreateModel(runId: string) {
    const find = async () => (await this.client.searchLoggedModels([this.s.experiment_id!], `name = '${MLFLOW_MODEL_NAME}'`)).find((m) => m.source_run_id === runId);
    const create = () => this.client.createLoggedModel(this.s.experiment_id!, MLFLOW_MODEL_NAME, runId, [{ key: "tlrun.run_id", value: this.j.runId }], "classifier",
      paramsOf(this.j, []).map(({ key, value }) => ({ key, value }))); // the run's params on the model too, as mlflow's log_model copies them
    const found = await find();
    if (found) return found;
    try {
      return await create();
    } catch (e) {
      if (!(e instanceof MlflowError) || !e.retryable) throw e;
      return (await find()) ?? (await create());
    }
  }

  async sendInputs(runId: string): Promise<void> {
    const d = datasetOf(this.j);
    if (!d || this.s.acked.inputs.includes(d.dataset.digest)) return;
    try {
      await this.client.logInputs(runId, [d]);
      this.result.sent.inputs++;
    } catch (e) {
      if (!(e instanceof MlflowError) || e.retryable) throw e;
      this.reject(`dataset:${d.dataset.name}`, e);
    }
    this.s.acked.inputs.push(d.dataset.digest);
    this.save();
  }

  async endRun(runId: string): Promise<void> {
    const status = STATUS[this.j.summary.status];
    if (!status || this.s.acked.status === status) return;
    const end = this.j.summary.ended_at ? Date.parse(this.j.summary.ended_at) : Date.now();
    await this.client.updateRun(runId, status, end);
    this.s.acked.status = status;
    this.result.status = status;
    this.save();
  }

  countPending(): number {
    if (this.s.held_by || this.s.unsent) return 0;
    const n = this.unacked(metricsOf(this.j), this.s.acked.metrics).length + this.unacked(paramsOf(this.j, []), this.s.acked.params).length
      + this.unacked(tagsOf(this.j, this.ctx, []), this.s.acked.tags).length + this.unacked(artifactsOf(this.j), this.s.acked.artifacts).length;
    return n + (STATUS[this.j.summary.status] && this.s.acked.status !== STATUS[this.j.summary.status] ? 1 : 0) + (this.modelPending() ? 1 : 0);
  }

  /**
   * A sweep trial names its parent run by MLflow id: make sure the parent exists on this server
   * first. The first trial that makes a run of its own creates it (a sweep whose every trial was
   * cached adds no run at all), under a lock, so that trials starting together make one parent.
   */
  async linkParent(): Promise<void> {
    const dir = this.ctx.parent_dir;
    if (!dir || !existsSync(join(dir, "summary.json"))) return;
    let parentId = serverRunIdOf(dir, this.client);
    if (!parentId) {
      const lock = await FileLock.acquire(join(dir, ".mlflow-parent.lock"));
      try {
        parentId = serverRunIdOf(dir, this.client) ?? (await syncRun(dir, this.client)).serverRunId;
      } finally {
        lock.release();
      }
    }
    if (parentId) this.ctx = { ...this.ctx, target: { ...this.ctx.target, tags: { ...this.ctx.target.tags, "mlflow.parentRunId": parentId } } };
  }

  async run(): Promise<SyncResult> {
    try {
      const runId = await this.ensureRun();
      if (!runId && this.s.unsent) {
        this.result.notes.push(`nothing sent: ${this.s.unsent}`);
        return this.result;
      }
      if (!runId) {
        this.result.heldBy = this.s.held_by;
        this.result.serverRunId = this.s.held_by!.run_id;
        this.result.notes.push(heldNote(this.s.held_by!, this.client.server.uri));
        return this.result;
      }
      this.result.serverRunId = runId;
      try {
        await this.reconcile(runId);
        await this.sendKeyValues("params", runId, this.unacked(paramsOf(this.j, this.result.notes), this.s.acked.params));
        await this.sendKeyValues("tags", runId, this.unacked(tagsOf(this.j, this.ctx, this.result.notes), this.s.acked.tags));
        for (const batch of chunkBatches({ metrics: this.unacked(metricsOf(this.j), this.s.acked.metrics) }))
          await this.sendMetrics(runId, batch.metrics as Array<Keyed<Metric>>);
        if (this.j.summary.status !== "running") await this.sendInputs(runId);
        await this.sendArtifacts();
        await this.sendModel(runId);
      } finally {
        await this.endRun(runId); // never leave a finished local run RUNNING on the server
      }
      this.s.last_error = undefined;
    } catch (e) {
      this.s.last_error = e instanceof Error ? e.message : String(e);
      this.save();
      throw e;
    } finally {
      this.result.pending = this.countPending();
    }
    this.save();
    return this.result;
  }
}

/** Which entry of a run folder's mlflow.json is this client's server: its key, else its address. */
export const stateKey = (client: MlflowClient): string => client.server.key ?? client.server.uri;

/** Record that the run folder `dir` has nothing for this server, and why; `tlrun sync` then sends nothing for it. */
export function markUnsent(dir: string, client: MlflowClient, why: string): void {
  const state = loadState(dir);
  serverState(state, stateKey(client)).unsent = why;
  saveState(dir, state);
}

/** The MLflow run id this server holds for the run folder `dir`, if it made one. */
export function serverRunIdOf(dir: string, client: MlflowClient): string | undefined {
  return loadState(dir).servers[stateKey(client)]?.run_id;
}

/**
 * Send what the server has not acknowledged for one run folder: creates (or finds) the MLflow
 * run, then params, tags, metrics, the dataset, artifacts and the final status. Safe to repeat:
 * running it twice sends nothing the second time. Throws MlflowError when the server cannot be
 * reached; what was acknowledged before that stays acknowledged.
 */
export async function syncRun(dir: string, client: MlflowClient): Promise<SyncResult> {
  return new Pass(readJournal(dir), loadState(dir), client).run();
}

/** Store the run's context (source, user, commit, target) for later syncs. */
export function writeContext(dir: string, ctx: TrackingContext): void {
  const state = loadState(dir);
  state.context = ctx;
  saveState(dir, state);
}
