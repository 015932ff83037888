/**
 * The part of bullmq's and ioredis' APIs that the queue code uses, declared here so that tlrun
 * compiles without them: they are installed on first use (src/util/extras.ts).
 */

export interface RedisClient {
  on(event: "error", listener: (err: Error) => void): this;
  off(event: "error", listener: (err: Error) => void): this;
  ping(): Promise<string>;
  duplicate(): RedisClient;
  disconnect(): void;
  multi(): RedisMulti;
}

export interface RedisMulti {
  hset(key: string, field: string, value: string): RedisMulti;
  hvals(key: string): RedisMulti;
  exec(): Promise<Array<[Error | null, unknown]> | null>;
}

export interface IORedisModule {
  Redis: new (url: string, opts: { maxRetriesPerRequest: null; lazyConnect: boolean; password?: string; tls?: { ca?: Buffer } }) => RedisClient;
}

export interface Job<T> {
  id?: string;
  data: T;
  attemptsMade: number;
  updateProgress(progress: object): Promise<void>;
  waitUntilFinished(events: QueueEvents): Promise<unknown>;
}

export interface JobOptions {
  jobId: string;
  attempts: number;
  removeOnComplete: { age: number };
  removeOnFail: { age: number };
}

export interface Queue {
  add<T>(name: string, data: T, opts: JobOptions): Promise<Job<T>>;
  close(): Promise<void>;
}

export interface QueueEvents {
  waitUntilReady(): Promise<unknown>;
  on(event: "progress", listener: (args: { jobId: string; data: unknown }) => void): this;
  off(event: "progress", listener: (args: { jobId: string; data: unknown }) => void): this;
  close(): Promise<void>;
}

export interface WorkerSettings {
  connection: RedisClient;
  concurrency: number;
  lockDuration: number;
  stalledInterval: number;
  maxStalledCount: number;
}

export interface Worker {
  on(event: "error", listener: (err: Error) => void): this;
  /** The lock of each job listed could not be extended: it had lapsed, and the job may be another worker's now. */
  on(event: "lockRenewalFailed", listener: (jobIds: string[]) => void): this;
  close(): Promise<void>;
}

export interface BullMQModule {
  Queue: new (name: string, opts: { connection: RedisClient }) => Queue;
  QueueEvents: new (name: string, opts: { connection: RedisClient }) => QueueEvents;
  /** Thrown by a processor: the job fails at once, without the retries its options allow. */
  UnrecoverableError: new (message: string) => Error;
  Worker: new <T>(name: string, processor: (job: Job<T>) => Promise<unknown>, opts: WorkerSettings) => Worker;
}
