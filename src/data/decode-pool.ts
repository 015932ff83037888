/**
 * Worker threads for the JS PNG path, so decoding uses every core instead of the main thread's
 * one (sharp has its own thread pool for everything else). A job may also ask the worker to
 * finish the image (finish.ts) into a batch in shared memory, or to finish pixels the pixel
 * cache already holds, so augmentation and float conversion leave the main thread too. Jobs go
 * to the least busy worker; idle workers do not keep the process alive. If a worker fails, the pool shuts down and its
 * jobs, and all later ones, are decoded on the main thread: a broken pool costs speed, never
 * results. TLRUN_DECODE_THREADS sets the number of workers (default: one per core, at most 4;
 * 0 decodes on the main thread).
 */
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import type { DecodeOptions } from "./decode-options";
import type { FinishTarget } from "./finish";

/**
 * A worker's answer: the pixels (also `written` when it finished them into the target too, for
 * the pixel cache), `written` alone, a reason to show, an unexpected error, or "give it to sharp".
 */
export type WorkerReply = { px: Uint8Array; written?: true } | { written: true } | { reason: string } | { error: string } | { sharp: true };

/** What to do with a decoded image besides answering: finish it into `into` (shared memory), and send the pixels back only if `keep`. */
export interface FinishRequest {
  into: FinishTarget;
  keep: boolean;
}

/** One request: decode the file `abs`, or only finish pixels already decoded (`px`). */
export interface Job {
  id: number;
  abs?: string;
  px?: Uint8Array;
  opts: DecodeOptions;
  finish?: FinishRequest;
}

interface Slot {
  worker: Worker;
  pending: number;
  /** Jobs not posted yet: requests made in the same tick go out as one message. */
  queue: Job[];
}

const settings = { threads: envThreads() };
/** Jobs per message at most. */
const MESSAGE_JOBS = 32;
let slots: Slot[] | undefined;
let broken = false;
let nextId = 1;
const jobs = new Map<number, { slot: Slot; done: (r: WorkerReply | undefined) => void }>();

function envThreads(): number {
  const v = Number(process.env.TLRUN_DECODE_THREADS);
  return Number.isInteger(v) && v >= 0 ? v : Math.min(4, availableParallelism());
}

/**
 * Decode `abs` on a worker (and finish it, with `finish`); undefined when there are no workers
 * (or they failed): decode it here.
 */
export function decodeOnWorker(abs: string, opts: DecodeOptions, finish?: FinishRequest): Promise<WorkerReply | undefined> {
  return submit({ abs, opts, finish });
}

/** Finish decoded pixels into `into` on a worker; undefined when there are no workers: finish them here. */
export function finishOnWorker(px: Uint8Array, opts: DecodeOptions, into: FinishTarget): Promise<WorkerReply | undefined> {
  return submit({ px, opts, finish: { into, keep: false } });
}

function submit(request: Omit<Job, "id">): Promise<WorkerReply | undefined> {
  const pool = workers();
  if (!pool) return Promise.resolve(undefined);
  const slot = pool.reduce((a, b) => (b.pending < a.pending ? b : a));
  const id = nextId++;
  return new Promise((done) => {
    jobs.set(id, { slot, done });
    if (slot.pending++ === 0) slot.worker.ref();
    const queued = slot.queue.push({ id, ...request });
    if (queued === 1) queueMicrotask(() => post(slot));
    else if (queued >= MESSAGE_JOBS) post(slot); // a worker answers a message as a whole: long runs go out in parts, so answers stream back
  });
}

function post(slot: Slot): void {
  if (slot.queue.length === 0 || slots?.includes(slot) !== true) return;
  slot.worker.postMessage(slot.queue);
  slot.queue = [];
}

function workers(): Slot[] | undefined {
  if (settings.threads === 0 || broken) return undefined;
  slots ??= Array.from({ length: settings.threads }, spawn);
  return slots;
}

function spawn(): Slot {
  const worker = new Worker(join(__dirname, "decode-worker.js"));
  const slot: Slot = { worker, pending: 0, queue: [] };
  worker.on("message", (replies: Array<{ id: number } & WorkerReply>) => {
    for (const m of replies) {
      const job = jobs.get(m.id);
      if (!job) continue;
      jobs.delete(m.id);
      if (--slot.pending === 0) worker.unref();
      job.done(m);
    }
  });
  worker.on("error", () => shutDown(true));
  worker.on("exit", () => shutDown(true));
  worker.unref(); // after the listeners: adding a "message" listener refs the worker's port again
  return slot;
}

/** Stop every worker; pending jobs resolve to undefined, so their callers decode them instead. */
function shutDown(failed: boolean): void {
  if (failed) broken = true;
  const pool = slots;
  slots = undefined;
  for (const s of pool ?? []) {
    s.worker.removeAllListeners();
    void s.worker.terminate();
  }
  for (const [id, job] of jobs) {
    jobs.delete(id);
    job.done(undefined);
  }
}

/** Whether PNGs decode on worker threads (there are some, and they have not failed). */
export function decodeWorkersAvailable(): boolean {
  return settings.threads > 0 && !broken;
}

/** Set the number of decode workers (0: decode on the main thread); returns the previous setting. */
export function configureDecodeThreads(o: { threads: number }): { threads: number } {
  const prev = { threads: settings.threads };
  shutDown(false);
  broken = false;
  settings.threads = Math.max(0, Math.floor(o.threads));
  return prev;
}
