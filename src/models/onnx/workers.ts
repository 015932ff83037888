/**
 * ONNX Runtime on worker threads: a few sessions, each with its own threads, taking whole
 * batches, so the main thread stays free to decode, augment and convert the next batches while
 * the model runs (its synchronous `run` would otherwise hold the thread for the whole batch).
 *
 * Inputs travel through shared memory: each worker owns a few input slots (SharedArrayBuffers of
 * one batch), the main thread copies a batch into a free one and posts only its number. A
 * structured-clone message of the same 6 MB batch cost 6 ms here against about 1 ms for the
 * copy. ONNX Runtime refuses shared memory as input, so the worker copies the slot into its own
 * buffer before running.
 *
 * TLRUN_INFERENCE_WORKERS sets the number of sessions (0: run on the main thread); by default
 * one per thread of the machine (TF_NUM_INTRAOP_THREADS, or one per core), up to four, and the
 * threads are shared out between them (poolSettings).
 */
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import { EXIT, TlrunError } from "../../errors";
import { ortThreads } from "./runtime";
import type { WorkerInit, WorkerReply, WorkerRequest, WorkerStatus } from "./worker";

export interface InferencePool {
  /**
   * The outputs for the first `n` inputs of `x` (a batch or less), on the least busy worker. `x`
   * is copied before this returns. Should the pool break, the batch runs on `fallback` instead.
   */
  run(x: Float32Array, n: number): Promise<Float32Array[]>;
  /** `x` on every worker, for checking each session (no fallback): one result per worker. */
  onEach(x: Float32Array, n: number): Promise<Float32Array[][]>;
  readonly workers: number;
  readonly threads: number;
  /** Why the pool stopped (a worker failed, or dispose), once it has. */
  readonly broken: string | undefined;
  dispose(): void;
}

/** How the extract stage runs its inference sessions (poolSettings). */
export interface PoolSettings {
  /** Sessions on worker threads; 0 keeps inference on the main thread. */
  workers: number;
  /** Intra-op threads of each session. */
  threads: number;
  /** The batch each session is compiled for (host batches larger than it run in chunks). */
  batch: number;
}

/** Default sessions at most: past this a machine's cores go to threads within each session, as each session holds its own copy of the weights. */
const MAX_DEFAULT_WORKERS = 4;

/**
 * Sessions, threads per session and the compiled batch, from TLRUN_INFERENCE_WORKERS and the
 * thread budget (ortThreads()). By default one single-threaded session per thread, up to
 * MAX_DEFAULT_WORKERS: on 2 cores the quickstart's extract stage ran 8.9-9.7 s with two
 * sessions of one thread against 10.0-11.0 s with one session of two threads, alternating
 * (docs/native-backend.md). A session alone on its core never waits at the end of an op for a
 * thread that the loader has taken. The batch is 8 images per thread, up to 32: a
 * single-threaded session spent about 7% less CPU per image at 8 than at 32, and a compiled
 * batch of 8 records and checks faster.
 */
export function poolSettings(): PoolSettings {
  const total = ortThreads();
  const raw = process.env.TLRUN_INFERENCE_WORKERS;
  let workers = Math.min(total, MAX_DEFAULT_WORKERS);
  if (raw !== undefined && raw.trim() !== "") {
    const v = Number(raw);
    if (!Number.isInteger(v) || v < 0) throw new TlrunError(`TLRUN_INFERENCE_WORKERS=${raw} is not a whole number\n  hint: set it to 0 (inference on the main thread) or the number of sessions to run side by side`, EXIT.usage);
    workers = v;
  }
  const threads = Math.max(1, Math.floor(total / Math.max(1, workers)));
  return { workers, threads, batch: Math.min(32, 8 * threads) };
}

/**
 * Input slots per worker: one being run and the rest filled and waiting. The extract stage keeps
 * two host batches of 32 in flight, eight chunks of the compiled 8 over two workers, so four each
 * take them all; a job that finds every slot taken waits with a private copy of its inputs
 * (1.6 MB at 128 px). With two slots half the chunks were copied, and the quickstart's extract
 * stage ran 13.1-14.8 s against 11.5-12.7 s with four, alternating.
 */
const SLOTS = 4;

interface Job {
  id: number;
  n: number;
  /** The batch until it is in a slot (a private copy made when every slot was taken). */
  x?: Float32Array;
  slot?: number;
  done(outs: Float32Array[]): void;
  fail(err: Error): void;
  /** Run here instead if the pool breaks; onEach's check jobs have none. */
  fallback: boolean;
}

interface Member {
  worker: Worker;
  slots: Float32Array[];
  free: number[];
  /** Jobs posted, by id. */
  running: Map<number, Job>;
  /** Jobs waiting for a free slot, in order. */
  waiting: Job[];
}

/**
 * Start `workers` sessions of `model` (ONNX bytes exported at `inputShape`), or throw why one
 * cannot load it. `fallback` runs a batch on this thread: for jobs caught by a broken pool.
 * `script` is the worker's code (worker.js; tests give one that fails on purpose).
 */
export async function startPool(
  model: Uint8Array, inputShape: number[], workers: number, threads: number, fallback: (x: Float32Array, n: number) => Float32Array[],
  script = join(__dirname, "worker.js"),
): Promise<InferencePool> {
  const per = inputShape.slice(1).reduce((a, b) => a * b, 1);
  const size = inputShape[0]! * per;
  let broken: string | undefined;
  let nextId = 1;
  const members: Member[] = [];

  const salvage = (job: Job, m: Member): void => {
    if (!job.fallback) return job.fail(new Error(`inference worker failed: ${broken}`));
    const x = job.x ?? m.slots[job.slot!]!.subarray(0, job.n * per); // a stopped pool reuses no slot; ortSession copies shared input
    try {
      job.done(fallback(x, job.n));
    } catch (err) {
      job.fail(err as Error);
    }
  };
  /** Stop every worker; their jobs run on `fallback` when a worker failed, or are refused on dispose. */
  const stop = (why: string, disposed = false): void => {
    if (broken !== undefined) return;
    broken = why;
    for (const m of members) {
      m.worker.removeAllListeners();
      void m.worker.terminate();
      for (const job of [...m.running.values(), ...m.waiting]) {
        if (disposed) job.fail(new Error("the inference pool was disposed"));
        else salvage(job, m);
      }
      m.running.clear();
      m.waiting = [];
    }
  };
  const post = (m: Member, job: Job): void => {
    if (job.slot === undefined) {
      job.slot = m.free.pop()!;
      m.slots[job.slot]!.set(job.x!.subarray(0, job.n * per));
      job.x = undefined;
    }
    if (m.running.size === 0) m.worker.ref();
    m.running.set(job.id, job);
    const req: WorkerRequest = { id: job.id, slot: job.slot, n: job.n };
    m.worker.postMessage(req);
  };
  const answered = (m: Member, reply: WorkerReply): void => {
    const job = m.running.get(reply.id);
    if (!job) return;
    m.running.delete(reply.id);
    m.free.push(job.slot!);
    if ("error" in reply) job.fail(new Error(`ONNX Runtime: ${reply.error}`));
    else job.done(reply.outs);
    const next = m.waiting.shift();
    if (next) post(m, next);
    else if (m.running.size === 0) m.worker.unref();
  };

  const started = Array.from({ length: workers }, () => {
    const slots = Array.from({ length: SLOTS }, () => new Float32Array(new SharedArrayBuffer(size * 4)));
    const init: WorkerInit = { model, inputShape, threads, slots };
    const worker = new Worker(script, { workerData: init });
    const m: Member = { worker, slots, free: slots.map((_, i) => i), running: new Map(), waiting: [] };
    members.push(m);
    return new Promise<void>((resolve, reject) => {
      worker.once("message", (status: WorkerStatus) => {
        if ("failed" in status) return reject(new Error(status.failed));
        worker.on("message", (reply: WorkerReply) => answered(m, reply));
        worker.unref();
        resolve();
      });
      worker.on("error", (err) => (reject(err), stop(err.message)));
      worker.on("exit", (code) => (reject(new Error(`exited with code ${code}`)), stop(`a worker exited with code ${code}`)));
    });
  });
  try {
    await Promise.all(started);
  } catch (err) {
    stop((err as Error).message);
    throw err;
  }

  const submit = (m: Member, x: Float32Array, n: number, withFallback: boolean): Promise<Float32Array[]> =>
    new Promise((done, fail) => {
      if (n < 1 || n > inputShape[0]! || x.length < n * per) throw new Error(`host batch of ${n} does not fit the compiled batch ${inputShape[0]}`);
      const job: Job = { id: nextId++, n, x, done, fail, fallback: withFallback };
      if (broken !== undefined) return withFallback ? done(fallback(x, n)) : fail(new Error(`inference worker failed: ${broken}`));
      if (m.free.length > 0) post(m, job);
      else (job.x = x.slice(0, n * per)), m.waiting.push(job);
    });
  const load = (m: Member): number => m.running.size + m.waiting.length;
  return {
    workers,
    threads,
    get broken() {
      return broken;
    },
    run: (x, n) => submit(members.reduce((a, b) => (load(b) < load(a) ? b : a)), x, n, true),
    onEach: (x, n) => Promise.all(members.map((m) => submit(m, x, n, false))),
    dispose: () => stop("disposed", true),
  };
}
