import { requireExtra } from "../util/extras";
import type { BullMQModule, Job, Queue, QueueEvents, RedisClient } from "./queue-api";
import { promotable, type RungStore } from "./asha";
import { JobRefused } from "./job-spec";
import { envelope, SECRET_ENV, secretFrom } from "./job-signature";
import { connect, ping } from "./redis-connection";
import { redactText, redactUrl } from "./redis-url";
import { ProcessPoolRunner, type TrialRunner } from "./runners";
import type { TrialEvent, TrialResult, TrialSpec } from "./trial";
import { admitJob } from "./worker-trust";

export { connect, ping };

/** The BullMQ queue name sweeps and workers meet on, unless `--name` says otherwise. */
export const DEFAULT_QUEUE = "tlrun-trials";

/**
 * ASHA rungs in Redis, shared by workers on every machine: one hash per sweep and rung, trial →
 * value. Each report writes its value and decides against all values at the rung.
 */
export class RedisRungs implements RungStore {
  constructor(private readonly conn: RedisClient, private readonly spec: TrialSpec) {}

  async report(trial: number, rung: number, value: number): Promise<boolean> {
    const key = `tlrun:asha:${this.spec.sweepId}:${rung}`;
    const [, [, all]] = (await this.conn.multi().hset(key, String(trial), String(value)).hvals(key).exec()) as [unknown, [unknown, string[]]];
    return promotable(this.spec.asha!, value, all.map(Number));
  }
}

/**
 * The sweep's side of a distributed run: each trial becomes a BullMQ job that any `tlrun worker`
 * may take. A worker killed mid-trial stops renewing its job's lock; BullMQ then moves the job
 * back to the queue and another worker runs it again (stages already cached are reused).
 */
export class QueueRunner implements TrialRunner {
  private readonly queue: Queue;
  private readonly events: QueueEvents;
  private readonly eventsConn: RedisClient;
  /** TLRUN_QUEUE_SECRET: when set, each job is signed for the workers that check. */
  private readonly secret = secretFrom();

  constructor(private readonly conn: RedisClient, name: string, private readonly jobSuffix: string) {
    const bullmq = requireExtra<BullMQModule>("bullmq");
    this.queue = new bullmq.Queue(name, { connection: conn });
    this.eventsConn = conn.duplicate();
    this.eventsConn.on("error", () => undefined);
    this.events = new bullmq.QueueEvents(name, { connection: this.eventsConn });
  }

  async run(spec: TrialSpec, onEvent: (e: TrialEvent) => void, signal: AbortSignal): Promise<TrialResult> {
    await this.events.waitUntilReady();
    const jobId = `${spec.sweepId}-t${spec.index}-${this.jobSuffix}`;
    const job = await this.queue.add("trial", envelope(spec, jobId, this.secret), { jobId, attempts: 2, removeOnComplete: { age: 7 * 24 * 3600 }, removeOnFail: { age: 7 * 24 * 3600 } });
    const onProgress = ({ jobId: id, data }: { jobId: string; data: unknown }): void => void (id === jobId && onEvent(data as TrialEvent));
    this.events.on("progress", onProgress);
    const aborted = new Promise<never>((_, reject) => signal.addEventListener("abort", () => reject(new Error(`interrupted by ${String(signal.reason)}`)), { once: true }));
    try {
      return (await Promise.race([job.waitUntilFinished(this.events), aborted])) as TrialResult;
    } finally {
      this.events.off("progress", onProgress);
    }
  }

  async close(): Promise<void> {
    await this.events.close();
    await this.queue.close();
    // BullMQ leaves connections it was given open; they are ours to close.
    this.eventsConn.disconnect();
    this.conn.disconnect();
  }
}

export interface WorkerOptions {
  name: string;
  /** How long a job's lock lasts without renewal; a killed worker's trial is retried after this. */
  lockSeconds: number;
  /** Real paths of the folders a job may read and write under (worker-trust.ts). */
  roots: string[];
  /** TLRUN_QUEUE_SECRET: when set, only jobs signed with it run. */
  secret?: string;
  log: (line: string) => void;
  signal: AbortSignal;
}

/** The worker's first line: what it trusts, so a wrong --allow or a missing secret shows at once. */
export function trustLine(url: string, opts: Pick<WorkerOptions, "name" | "roots" | "secret">): string {
  const sig = opts.secret ? `runs only jobs signed with ${SECRET_ENV}` : `does not check job signatures (no ${SECRET_ENV})`;
  return `waiting for trials on ${opts.name} at ${redactUrl(url)}; jobs may use only ${opts.roots.join(", ")}; ${sig}`;
}

/**
 * `tlrun worker`: take trials from the queue one at a time until stopped, refusing jobs it should
 * not run. Each trial runs in a child process (the local pool's, size one), so this process's event
 * loop stays free to renew the job's lock: a stage that computes synchronously for longer than the
 * lock (the audit's finders, minutes at 100k images) would otherwise let the lock lapse, and another
 * worker would run the same trial a second time. Should the lock be lost all the same, the trial is
 * stopped: the worker that took the job over finishes it.
 */
export async function serveQueue(url: string, opts: WorkerOptions): Promise<void> {
  const conn = connect(url);
  await ping(conn, url);
  let current: { jobId: string; abort: AbortController; rungs?: RungStore } | undefined;
  let warned = false;
  const unchecked = (): void => {
    if (!warned) opts.log(`warning: jobs on this queue are signed, but this worker does not check signatures; set ${SECRET_ENV} here too`);
    warned = true;
  };
  const rungs: RungStore = { report: (trial, rung, value) => current?.rungs?.report(trial, rung, value) ?? Promise.resolve(true) };
  const pool = new ProcessPoolRunner(1, rungs, (m) => opts.log(m));
  const workerConn = conn.duplicate();
  workerConn.on("error", () => undefined);
  const bullmq = requireExtra<BullMQModule>("bullmq");
  const worker = new bullmq.Worker(
    opts.name,
    async (job: Job<unknown>) => {
      let spec: TrialSpec;
      try {
        spec = admitJob(job.data, job.id ?? "", opts.roots, opts.secret, unchecked);
      } catch (err) {
        if (!(err instanceof JobRefused)) throw err;
        opts.log(`job ${job.id}: ${err.message}`);
        throw new bullmq.UnrecoverableError(err.message);
      }
      current = { jobId: job.id ?? "", abort: new AbortController(), rungs: spec.asha ? new RedisRungs(conn, spec) : undefined };
      opts.log(`trial ${spec.index} of sweep ${spec.sweepId} (job ${job.id}, attempt ${job.attemptsMade + 1})`);
      try {
        const result = await pool.run(spec, (e) => void job.updateProgress(e).catch(() => undefined), current.abort.signal);
        opts.log(`trial ${spec.index}: ${result.status}${result.value !== null ? ` ${spec.metric} ${result.value.toFixed(4)}` : ""}${result.error ? ` (${result.error})` : ""}`);
        return result;
      } finally {
        current = undefined;
      }
    },
    { connection: workerConn, concurrency: 1, lockDuration: opts.lockSeconds * 1000, stalledInterval: Math.max(1000, (opts.lockSeconds * 1000) / 2), maxStalledCount: 2 },
  );
  worker.on("error", (err) => opts.log(`queue error: ${redactText(err.message, url)}`));
  worker.on("lockRenewalFailed", (jobIds) => {
    if (!current || !jobIds.includes(current.jobId)) return;
    opts.log(`job ${current.jobId}: its lock lapsed and the queue may have given the trial to another worker; stopping this attempt`);
    current.abort.abort("lost the job's lock");
  });
  opts.log(trustLine(url, opts));
  await new Promise<void>((resolve) => opts.signal.addEventListener("abort", () => resolve(), { once: true }));
  current?.abort.abort(String(opts.signal.reason ?? "SIGTERM"));
  await worker.close();
  await pool.close();
  workerConn.disconnect();
  conn.disconnect();
}
