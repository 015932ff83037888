import * as tf from "@tensorflow/tfjs";
import type { FastInference, ForwardOptions, WorkerSettings } from "./inference-types";
import type { InferenceModel } from "./fold";
import { traceToOnnx } from "./onnx/export";
import { modelProto } from "./onnx/proto";
import { loadOrt, ortSession } from "./onnx/runtime";
import { dropGraph, graphKey, readGraph, writeGraph } from "./onnx/graph-cache";
import { startPool, type InferencePool } from "./onnx/workers";
import { hostRelativeError, nativeBackend, recordOnSample, relativeError, Unsupported, type Trace } from "./trace";

/**
 * The onnxruntime inference engine (engine.ts): frozen forward passes (extract, evaluate,
 * fine-tune's frozen bottom) compiled out of tfjs' op-by-op execution on the native backend.
 * The folded forward function is recorded once (trace.ts), converted to ONNX (onnx/export.ts)
 * and run by ONNX Runtime's CPU provider, whose layout-aware kernels measured fastest here
 * (docs/native-backend.md). The graph is checked against the eager function on a second,
 * different input before use, so a trace that captured something input-dependent as a constant
 * is refused; anything refused runs eagerly, with the reason.
 */
export interface CompiledForward {
  /** Outputs for `x` ([n, ...] with n ≤ batch; a short batch is padded and the outputs cut back). */
  run(x: tf.Tensor): tf.Tensor[];
  /** The same on host memory: `n` ≤ batch inputs laid out one after another; outputs cut to `n`. */
  runHost(x: Float32Array, n: number): Float32Array[];
  /**
   * runHost on an inference worker when startWorkers started any, otherwise here. `x` is copied
   * before this returns, so the caller may refill it at once. If the workers fail, this and later
   * batches run here instead: a broken pool costs speed, never results.
   */
  runHostAsync(x: Float32Array, n: number): Promise<Float32Array[]>;
  /**
   * When compileForward was asked for `workers`: whether they run ("2 workers x 1 thread") or
   * why not, in which case runHostAsync stays on this thread.
   */
  readonly workers?: WorkersResult;
  /** The batch size the graph was traced at. */
  readonly batch: number;
  /** Ops in the recording (not counting constants). */
  readonly ops: number;
  /** max |compiled − eager| / max |eager| on the check input. */
  readonly checkError: number;
  /** The engine as it reports itself: "onnxruntime 1.30.0". */
  readonly label: string;
  /** `label` and the op count: "onnxruntime 1.30.0, 154 ops". */
  readonly runner: string;
  dispose(): void;
}

export type WorkersResult = { ok: true; detail: string } | { ok: false; reason: string };

export type { WorkerSettings } from "./inference-types";

/** compileForward's options. */
export interface CompileOptions {
  /** Each output row depends on its input row alone (a model's inference): the check runs two examples eagerly instead of the batch. */
  perExample?: boolean;
  /** ONNX Runtime sessions to start on worker threads for runHostAsync (see CompiledForward.workers). */
  workers?: WorkerSettings;
  /**
   * What `fn` computes, for the graph cache (onnx/graph-cache.ts): equal keys must mean equal
   * functions (weights, architecture, cut, input size). Without it every call records afresh.
   */
  cacheKey?: string;
}

export type CompileResult = { ok: true; forward: CompiledForward } | { ok: false; reason: string };

/** Relative tolerance of the compiled graph against the eager function (float reassociation in fused kernels). */
const CHECK_TOLERANCE = 1e-3;
/** Examples of the check input run eagerly and compared, for a per-example function. */
const CHECK_ROWS = 2;

/** An ONNX Runtime session over a recording, taking full batches of the traced shape. */
interface Session {
  call(x: tf.Tensor): tf.Tensor[];
  /** A full batch from host memory, outputs to host memory. */
  callHost(x: Float32Array): Float32Array[];
  dispose(): void;
  label: string;
}

/** `trace` exported as an ONNX model's bytes. */
function exported(trace: Trace): Uint8Array {
  if (trace.outputs.some((o) => o.dtype !== "float32")) throw new Unsupported("an output that is not float32");
  const ort = loadOrt(); // before exporting, which is wasted without it
  if (typeof ort === "string") throw new Unsupported(ort);
  return modelProto(traceToOnnx(trace), { name: "tlrun", version: "1" });
}

/**
 * An ONNX Runtime session over an exported graph's bytes (a fresh export, or one from the graph
 * cache), opened on first use: with inference workers the main thread's session is only their
 * fallback, and opening it (graph optimization and a first run, ~250 ms) waits until one is
 * needed; without workers the check opens it.
 */
function ortFromBytes(bytes: Uint8Array, inputShape: number[]): Session {
  const ort = loadOrt();
  if (typeof ort === "string") throw new Unsupported(ort);
  let s: ReturnType<typeof ortSession> | undefined;
  let pending: Uint8Array | undefined = bytes;
  const open = (): ReturnType<typeof ortSession> => {
    if (s) return s;
    try {
      s = ortSession(ort, pending!);
    } catch (err) {
      throw new Unsupported(`ONNX Runtime refused the graph: ${(err as Error).message.split("\n")[0]!.slice(0, 300)}`);
    }
    pending = undefined;
    return s;
  };
  return {
    label: `onnxruntime ${ort.version}`,
    call: (x) => open().run(x.dataSync() as Float32Array, x.shape).map((o) => tf.tensor(o.data, o.dims, "float32")),
    callHost: (x) => open().run(x, inputShape).map((o) => o.data),
    dispose: () => (s?.dispose(), (pending = undefined)),
  };
}

/**
 * Check session `s` (of the graph `model`, over `ops` recorded ops) against `fn` on the first
 * `checkRows` examples of a batch, or all. With `workers`, sessions of `model` on worker threads
 * start at once and each of them is checked instead, while this thread runs `fn` eagerly; `s`
 * is then checked only if they fail to start or to match, and stays their fallback should one
 * break. Nothing kept holds `model`'s bytes.
 */
async function compileTrace(
  s: Session, model: Uint8Array, inputShape: number[], ops: number, fn: (x: tf.Tensor) => tf.Tensor[], checkRows?: number, workers?: WorkerSettings,
): Promise<CompiledForward> {
  const batch = inputShape[0]!;
  const per = inputShape.slice(1).reduce((a, b) => a * b, 1);
  let staging: Float32Array | undefined;
  const runHost: CompiledForward["runHost"] = (x, n) => {
    if (n > batch || x.length < n * per) throw new Error(`host batch of ${n} does not fit the compiled batch ${batch}`);
    let input = x.length === batch * per ? x : x.subarray(0, n * per);
    if (n < batch) {
      staging ??= new Float32Array(batch * per);
      staging.set(input);
      staging.fill(0, n * per);
      input = staging;
    }
    return s.callHost(input).map((o) => (n === batch ? o : o.slice(0, (o.length / batch) * n)));
  };
  // the workers load their sessions on the other cores while this thread runs fn eagerly; runHost
  // is their fallback should one break
  const starting = !workers ? undefined
    : workers.workers < 1 ? "TLRUN_INFERENCE_WORKERS=0"
    : startPool(model, inputShape, workers.workers, workers.threads, runHost).catch((err: Error) => err);
  try {
    const check = tf.randomUniform(inputShape, -2, 2, "float32", 7);
    // eager on the first rows only when the examples of a batch are independent: an eager pass
    // is the slow part of compiling
    const rows = Math.min(checkRows ?? Infinity, inputShape[0]!);
    const all = rows === inputShape[0];
    let checkError: number | undefined;
    let pool: InferencePool | undefined;
    let workersResult: WorkersResult | undefined;
    try {
      const eager = tf.tidy(() => fn(all ? check : tf.slice(check, 0, rows)));
      try {
        const checkInput = check.dataSync() as Float32Array;
        const reference = eager.map((t) => t.dataSync() as Float32Array);
        if (workers) {
          // the workers' sessions are checked, each against eager
          const started = await checkWorkers(starting!, workers, checkInput, rows, reference);
          ({ pool, result: workersResult, worst: checkError } = started);
        }
        if (checkError === undefined) {
          // no workers: this thread's own session is checked instead
          const got = tf.tidy(() => s.call(check).map((t) => (all ? t : tf.slice(t, 0, rows))));
          try {
            checkError = relativeError(eager, got);
          } finally {
            tf.dispose(got);
          }
        }
      } finally {
        tf.dispose(eager);
      }
    } finally {
      check.dispose();
    }
    if (!(checkError <= CHECK_TOLERANCE)) {
      pool?.dispose();
      throw new Unsupported(`graph output differs from eager by ${checkError.toExponential(2)} (relative)`);
    }
    const forward: CompiledForward = {
      batch, checkError, ops, label: s.label, runner: `${s.label}, ${ops} ops`,
      runHostAsync: (x, n) => (pool && pool.broken === undefined ? pool.run(x, n) : Promise.resolve(runHost(x, n))),
      runHost,
      run(x) {
        const n = x.shape[0]!;
        if (n === batch) return s.call(x);
        if (n > batch) throw new Error(`batch of ${n} is larger than the compiled batch ${batch}`);
        const padded = tf.tidy(() => tf.concat([x, tf.zeros([batch - n, ...x.shape.slice(1)])], 0));
        const full = s.call(padded);
        padded.dispose();
        const cut = full.map((t) => tf.slice(t, 0, n));
        tf.dispose(full);
        return cut;
      },
      dispose: () => (pool?.dispose(), s.dispose()),
    };
    return workersResult ? { ...forward, workers: workersResult } : forward;
  } catch (err) {
    if (starting instanceof Promise) void starting.then((p) => (p instanceof Error ? undefined : p.dispose()));
    s.dispose();
    throw err;
  }
}

/**
 * The pool `starting` started (or why none was started), once each session matches the eager
 * `reference` on the first `rows` examples of `checkInput`.
 */
async function checkWorkers(
  starting: Promise<InferencePool | Error> | string, settings: WorkerSettings, checkInput: Float32Array, rows: number, reference: Float32Array[],
): Promise<{ pool?: InferencePool; result: WorkersResult; worst?: number }> {
  if (typeof starting === "string") return { result: { ok: false, reason: starting } };
  const pool = await starting;
  if (pool instanceof Error) return { result: { ok: false, reason: `inference workers do not start: ${reasonOf(pool)}` } };
  const each = await pool.onEach(checkInput, rows).catch((err: Error) => err);
  const worst = each instanceof Error ? undefined : Math.max(...each.map((outs) => hostRelativeError(reference, outs)));
  if (worst === undefined || !(worst <= CHECK_TOLERANCE)) {
    pool.dispose();
    return { result: { ok: false, reason: worst === undefined ? `inference workers failed the check: ${reasonOf(each)}` : `an inference worker differs from eager by ${worst.toExponential(2)}` } };
  }
  const { workers, threads } = settings;
  return { pool, worst, result: { ok: true, detail: `${workers} worker${workers === 1 ? "" : "s"} x ${threads} thread${threads === 1 ? "" : "s"}` } };
}

function reasonOf(err: unknown): string {
  const msg = err instanceof Error ? err.message.split("\n")[0]!.slice(0, 300) : String(err);
  return err instanceof Unsupported ? msg : `failed: ${msg}`;
}

/**
 * Compile `fn` (a pure function of one float32 batch of `inputShape`, whose first dim is the batch)
 * for ONNX Runtime, checked against `fn`. Returns why not when it does not compile or match, and
 * the caller keeps running `fn` eagerly. With a `cacheKey`, a graph exported earlier for the
 * same key skips the recording and the export; it is checked against `fn` like a fresh one.
 */
export async function compileForward(fn: (x: tf.Tensor) => tf.Tensor[], inputShape: number[], opts: CompileOptions = {}): Promise<CompileResult> {
  const backend = nativeBackend();
  if (typeof backend === "string") return { ok: false, reason: backend };
  const checkRows = opts.perExample ? CHECK_ROWS : undefined;
  const key = opts.cacheKey !== undefined ? graphKey({ key: opts.cacheKey, inputShape }) : undefined;
  const cached = key !== undefined ? readGraph(key) : undefined;
  if (cached) {
    try {
      const forward = await compileTrace(ortFromBytes(cached.bytes, inputShape), cached.bytes, inputShape, cached.ops, fn, checkRows, opts.workers);
      return { ok: true, forward: { ...forward, runner: `${forward.runner}, graph from cache` } };
    } catch {
      dropGraph(key!); // refused or no longer matching the eager model: record and export afresh below
    }
  }
  try {
    const trace = recordOnSample(backend, fn, inputShape);
    const bytes = exported(trace);
    const forward = await compileTrace(ortFromBytes(bytes, inputShape), bytes, inputShape, trace.nodes.length, fn, checkRows, opts.workers);
    if (key !== undefined) writeGraph(key, bytes, forward.ops);
    return { ok: true, forward };
  } catch (err) {
    return { ok: false, reason: reasonOf(err) };
  }
}

/**
 * `model` (one input) compiled for batches up to `inputShape[0]`, or why not (the caller then
 * runs it eagerly). Larger batches run in chunks. With `workers` (poolSettings() in
 * onnx/workers.ts), predictHostAsync runs on that many sessions on worker threads. Disposing
 * the result disposes `model`.
 */
export async function compiledInference(model: InferenceModel, inputShape: number[], opts: ForwardOptions = {}): Promise<FastInference | string> {
  // per example: short batches are padded and their outputs cut, which already assumes it
  const r = await compileForward((x) => model.predict(x), inputShape, { ...opts, perExample: true });
  if (!r.ok) return r.reason;
  const f = r.forward;
  const w = f.workers;
  const runner = f.runner + (!w ? "" : w.ok ? `, ${w.detail}` : `, on the main thread (${w.reason})`);
  /** A host batch larger than the compiled one, as chunks of at most `f.batch` inputs. */
  const chunks = (x: Float32Array, n: number, shape: readonly number[]): Array<[Float32Array, number]> => {
    const per = shape.reduce((a, b) => a * b, 1);
    return Array.from({ length: Math.ceil(n / f.batch) }, (_, i) => [x.subarray(i * f.batch * per), Math.min(f.batch, n - i * f.batch)]);
  };
  /** The chunks' outputs joined back, output by output. */
  const joined = (parts: Float32Array[][]): Float32Array[] => parts[0]!.map((_, o) => concatFloat(parts.map((p) => p[o]!)));
  return {
    folded: model.folded,
    runner,
    predictHost: (x, n, shape) => (n <= f.batch ? f.runHost(x, n) : joined(chunks(x, n, shape).map(([c, k]) => f.runHost(c, k)))),
    predictHostAsync: async (x, n, shape) => (n <= f.batch ? f.runHostAsync(x, n) : joined(await Promise.all(chunks(x, n, shape).map(([c, k]) => f.runHostAsync(c, k))))),
    predict(x) {
      const xs = [x].flat();
      if (xs.length !== 1) return model.predict(x);
      const t = xs[0]!;
      const n = t.shape[0]!;
      if (n <= f.batch) return f.run(t);
      const parts: tf.Tensor[][] = [];
      for (let s = 0; s < n; s += f.batch) {
        const chunk = tf.slice(t, s, Math.min(f.batch, n - s));
        parts.push(f.run(chunk));
        chunk.dispose();
      }
      const outs = parts[0]!.map((_, o) => tf.concat(parts.map((p) => p[o]!), 0));
      tf.dispose(parts.flat());
      return outs;
    },
    dispose: () => (f.dispose(), model.dispose()),
  };
}

function concatFloat(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) out.set(p, o), (o += p.length);
  return out;
}
