import { UsageError } from "../errors";
import { requireExtra } from "../util/extras";
import type { BullMQModule, IORedisModule, Job, Queue, QueueEvents, RedisClient } from "./queue-api";
import { promotable, type RungStore } from "./asha";
import type { TrialRunner } from "./runners";
import { JobRefused } from "./job-spec";
import { envelope, SECRET_ENV, secretFrom } from "./job-signature";
import { CA_ENV, connectOptions, PASSWORD_ENV, redactText, redactUrl } from "./redis-url";
import { runTrial, type TrialEvent, type TrialResult, type TrialSpec } from "./trial";
import { admitJob } from "./worker-trust";

/** The BullMQ queue name sweeps and workers meet on, unless `--name` says otherwise. */
export const DEFAULT_QUEUE = "tlrun-trials";

/**
 * A Redis connection for BullMQ from `redis[s]://[user:pass@]host:port[/db]`, with the password
 * from TLRUN_REDIS_PASSWORD and the CA from TLRUN_REDIS_CA when given (redis-url.ts); bullmq and
 * ioredis are installed on first use.
 */
export function connect(url: string): RedisClient {
  const options = connectOptions(url);
  const { Redis } = requireExtra<IORedisModule>("ioredis");
  const conn = new Redis(url, { maxRetriesPerRequest: null, lazyConnect: false, ...options });
  // Connection errors are retried by ioredis and reported by ping() or BullMQ; never as a stack.
  conn.on("error", () => undefined);
  return conn;
}

/** Errors that retrying will not cure: a wrong or missing password, a certificate not trusted. */
const FATAL = /WRONGPASS|NOAUTH|invalid password|invalid username|certificate|self[- ]signed|SSL|TLS|EPROTO/i;

/** What to do about a connection error, for the message that ends the command. */
function advice(message: string, url: string): string {
  if (/NOAUTH/i.test(message)) return `the server needs a password: write redis://:PASSWORD@host:port, or set ${PASSWORD_ENV}`;
  if (/WRONGPASS|invalid password|invalid username/i.test(message)) return `the server refused the password: check the one in the URL or in ${PASSWORD_ENV}`;
  if (/certificate|self[- ]signed/i.test(message)) return `the server's TLS certificate is not trusted: set ${CA_ENV} to the PEM file of the CA that signed it`;
  if (/SSL|TLS|EPROTO/i.test(message)) return "TLS failed: use rediss:// only for a server's TLS port, and redis:// for its plain port";
  if (/^rediss:/i.test(url) && /no answer/.test(message)) return "no TLS answer: is this the server's --tls-port? (redis:// is for its plain port)";
  return "start it (e.g. 'redis-server --port 6379') or pass another --queue URL";
}

/** Check the server answers before anything is enqueued, with a message that says what to do; never hangs past 5 s. */
export async function ping(conn: RedisClient, url: string): Promise<void> {
  let last: Error | undefined;
  let onError: (err: Error) => void = () => undefined;
  const fatal = new Promise<never>((_, reject) => {
    onError = (err) => void ((last = err), FATAL.test(err.message) && reject(err));
    conn.on("error", onError);
  });
  const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(last ?? new Error("no answer in 5 s")), 5000).unref());
  try {
    await Promise.race([conn.ping(), fatal, timeout]);
  } catch (err) {
    conn.disconnect();
    const message = (err as Error).message;
    throw new UsageError(redactText(`cannot use Redis at ${url} (${message}); ${advice(message, url)}`, url));
  } finally {
    conn.off("error", onError);
  }
}

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

/** `tlrun worker`: take trials from the queue one at a time until stopped, refusing jobs it should not run. */
export async function serveQueue(url: string, opts: WorkerOptions): Promise<void> {
  const conn = connect(url);
  await ping(conn, url);
  let current: AbortController | undefined;
  let warned = false;
  const unchecked = (): void => {
    if (!warned) opts.log(`warning: jobs on this queue are signed, but this worker does not check signatures; set ${SECRET_ENV} here too`);
    warned = true;
  };
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
      current = new AbortController();
      opts.log(`trial ${spec.index} of sweep ${spec.sweepId} (job ${job.id}, attempt ${job.attemptsMade + 1})`);
      const result = await runTrial(spec, {
        rungs: spec.asha ? new RedisRungs(conn, spec) : undefined,
        signal: current.signal,
        onEvent: (e) => void job.updateProgress(e).catch(() => undefined),
        warn: (m) => opts.log(m),
      });
      opts.log(`trial ${spec.index}: ${result.status}${result.value !== null ? ` ${spec.metric} ${result.value.toFixed(4)}` : ""}${result.error ? ` (${result.error})` : ""}`);
      return result;
    },
    { connection: workerConn, concurrency: 1, lockDuration: opts.lockSeconds * 1000, stalledInterval: Math.max(1000, (opts.lockSeconds * 1000) / 2), maxStalledCount: 2 },
  );
  worker.on("error", (err) => opts.log(`queue error: ${redactText(err.message, url)}`));
  opts.log(trustLine(url, opts));
  await new Promise<void>((resolve) => opts.signal.addEventListener("abort", () => resolve(), { once: true }));
  current?.abort(String(opts.signal.reason ?? "SIGTERM"));
  await worker.close();
  workerConn.disconnect();
  conn.disconnect();
}
