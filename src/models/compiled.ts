import * as tf from "@tensorflow/tfjs";
import { EXIT, TlrunError } from "../errors";
import type { InferenceModel } from "./fold";
import { tensorflowSession } from "./native-graph";
import { traceToOnnx } from "./onnx/export";
import { modelProto } from "./onnx/proto";
import { loadOrt, ortSession } from "./onnx/runtime";
import { dropGraph, graphKey, readGraph, writeGraph } from "./onnx/graph-cache";
import { startPool, type InferencePool } from "./onnx/workers";
import { hostRelativeError, nativeBackend, recordOnSample, relativeError, Unsupported, type Trace } from "./trace";

/**
 * Frozen forward passes (extract, evaluate, fine-tune's frozen bottom) compiled out of tfjs'
 * op-by-op execution on the native backend. The folded forward function is recorded once
 * (trace.ts) and handed to the first engine that takes it:
 *
 * 1. onnxruntime: the recording converted to ONNX (onnx/export.ts) and run by ONNX Runtime's
 *    CPU provider, whose layout-aware kernels measured fastest here (docs/native-backend.md);
 * 2. tensorflow: the recording as a TensorFlow session (native-graph.ts);
 * 3. otherwise the function runs eagerly, as it would without compiling.
 *
 * Whatever compiles is checked against the eager function on a second, different input before
 * use, so a trace that captured something input-dependent as a constant is refused.
 * TLRUN_INFERENCE=onnxruntime|tensorflow|eager picks one (default auto); TLRUN_NATIVE_GRAPH=0
 * is the older way to say eager.
 */
export type Engine = "onnxruntime" | "tensorflow";

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
  readonly engine: Engine;
  /** The batch size the graph was traced at. */
  readonly batch: number;
  /** Ops in the recording (not counting constants). */
  readonly ops: number;
  /** max |compiled − eager| / max |eager| on the check input. */
  readonly checkError: number;
  /** The engine as it reports itself: "onnxruntime 1.30.0" or "tensorflow graph". */
  readonly label: string;
  /** `label` and the op count: "onnxruntime 1.30.0, 154 ops". */
  readonly runner: string;
  dispose(): void;
}

export type WorkersResult = { ok: true; detail: string } | { ok: false; reason: string };

/** How many ONNX Runtime sessions to start on worker threads, and the threads of each (onnx/workers.ts' poolSettings()). */
export interface WorkerSettings {
  workers: number;
  threads: number;
}

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

/** The engines to try, in order, as TLRUN_INFERENCE asks (or why none: eager). */
export function enginePreference(): Engine[] | string {
  if (process.env.TLRUN_NATIVE_GRAPH === "0") return "TLRUN_NATIVE_GRAPH=0";
  const v = (process.env.TLRUN_INFERENCE ?? "").trim().toLowerCase();
  if (v === "" || v === "auto") return ["onnxruntime", "tensorflow"];
  if (v === "eager") return "TLRUN_INFERENCE=eager";
  if (v === "onnxruntime" || v === "tensorflow") return [v];
  throw new TlrunError(`TLRUN_INFERENCE=${process.env.TLRUN_INFERENCE} is not an engine\n  hint: set it to auto, onnxruntime, tensorflow or eager, or unset it`, EXIT.usage);
}

/** One engine's session over `trace`, taking full batches of the traced shape. */
interface Session {
  call(x: tf.Tensor): tf.Tensor[];
  /** A full batch from host memory, outputs to host memory. */
  callHost(x: Float32Array): Float32Array[];
  dispose(): void;
  label: string;
  /** The ONNX model's bytes, for sessions on worker threads; compileTrace takes them and drops them here. */
  model?: Uint8Array;
}

async function session(engine: Engine, trace: Trace): Promise<Session> {
  const inputShape = trace.shapes.get("x")!;
  if (engine === "tensorflow") {
    const s = await tensorflowSession(trace);
    const callHost = (x: Float32Array): Float32Array[] => {
      const t = tf.tensor(x, inputShape, "float32");
      const outs = s.call(t);
      t.dispose();
      const data = outs.map((o) => o.dataSync() as Float32Array);
      tf.dispose(outs);
      return data;
    };
    return { ...s, callHost, label: "tensorflow graph" };
  }
  if (trace.outputs.some((o) => o.dtype !== "float32")) throw new Unsupported("an output that is not float32");
  const ort = loadOrt(); // before exporting, which is wasted without it
  if (typeof ort === "string") throw new Unsupported(ort);
  return ortFromBytes(modelProto(traceToOnnx(trace), { name: "tlrun", version: "1" }), inputShape);
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
    model: bytes,
    call: (x) => open().run(x.dataSync() as Float32Array, x.shape).map((o) => tf.tensor(o.data, o.dims, "float32")),
    callHost: (x) => open().run(x, inputShape).map((o) => o.data),
    dispose: () => (s?.dispose(), (pending = undefined)),
  };
}

/**
 * Check session `s` (of `engine`, over `ops` recorded ops) against `fn` on the first `checkRows`
 * examples of a batch, or all. With `workers`, sessions on worker threads start at once and
 * each of them is checked instead, while this thread runs `fn` eagerly; `s` is then checked
 * only if they fail to start or to match, and stays their fallback should one break.
 */
async function compileTrace(
  engine: Engine, s: Session, inputShape: number[], ops: number, fn: (x: tf.Tensor) => tf.Tensor[], checkRows?: number, workers?: WorkerSettings,
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
  // is their fallback should one break. Only the sessions need the model's bytes.
  const model = s.model;
  s.model = undefined;
  const starting = !workers ? undefined
    : !model ? `${s.label} runs on the main thread`
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
      engine, batch, checkError, ops, label: s.label, runner: `${s.label}, ${ops} ops`,
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
 * with the engines in order; the first that compiles and matches `fn` wins. Returns why not
 * when none does (every engine's reason), and the caller keeps running `fn` eagerly. With a
 * `cacheKey`, an ONNX graph exported earlier for the same key skips the recording and the
 * export; it is checked against `fn` like a fresh one.
 */
export async function compileForward(
  fn: (x: tf.Tensor) => tf.Tensor[], inputShape: number[], engines: Engine[] | string = enginePreference(), opts: CompileOptions = {},
): Promise<CompileResult> {
  if (typeof engines === "string") return { ok: false, reason: engines };
  const backend = nativeBackend();
  if (typeof backend === "string") return { ok: false, reason: backend };
  const checkRows = opts.perExample ? CHECK_ROWS : undefined;
  const key = opts.cacheKey !== undefined && engines[0] === "onnxruntime" ? graphKey({ key: opts.cacheKey, inputShape }) : undefined;
  const cached = key !== undefined ? readGraph(key) : undefined;
  if (cached) {
    try {
      const forward = await compileTrace("onnxruntime", ortFromBytes(cached.bytes, inputShape), inputShape, cached.ops, fn, checkRows, opts.workers);
      return { ok: true, forward: { ...forward, runner: `${forward.runner}, graph from cache` } };
    } catch {
      dropGraph(key!); // refused or no longer matching the eager model: record and export afresh below
    }
  }
  let trace: Trace;
  try {
    trace = recordOnSample(backend, fn, inputShape);
  } catch (err) {
    return { ok: false, reason: reasonOf(err) };
  }
  const reasons: string[] = [];
  for (const engine of engines) {
    try {
      const s = await session(engine, trace);
      const bytes = s.model;
      const forward = await compileTrace(engine, s, inputShape, trace.nodes.length, fn, checkRows, opts.workers);
      if (key !== undefined && engine === "onnxruntime" && bytes) writeGraph(key, bytes, forward.ops);
      return { ok: true, forward };
    } catch (err) {
      reasons.push(`${engine}: ${reasonOf(err)}`);
    }
  }
  return { ok: false, reason: reasons.join("; ") };
}

/** An InferenceModel and how its forward pass runs ("onnxruntime 1.30.0, N ops", "tensorflow graph, N ops" or "eager: <why>"). */
export type FastInference = InferenceModel & {
  readonly runner: string;
  /** The outputs for `n` inputs of `shape` (batch dim excluded) in host memory, as host arrays. */
  predictHost(x: Float32Array, n: number, shape: readonly number[]): Float32Array[];
  /**
   * predictHost on the inference workers when fastInference was asked for them and they
   * started; otherwise here. `x` is copied before this returns, so the caller may refill it.
   */
  predictHostAsync(x: Float32Array, n: number, shape: readonly number[]): Promise<Float32Array[]>;
};

/** predictHost through tensors, for a model that runs eagerly. */
function eagerHost(model: InferenceModel): FastInference["predictHost"] {
  return (x, n, shape) => {
    const t = tf.tensor(x.subarray(0, n * shape.reduce((a, b) => a * b, 1)), [n, ...shape], "float32");
    const outs = model.predict(t);
    t.dispose();
    const data = outs.map((o) => o.dataSync() as Float32Array);
    tf.dispose(outs);
    return data;
  };
}

/**
 * `model` (one input) compiled for batches up to `inputShape[0]` when the native backend allows
 * it (by `engines`, TLRUN_INFERENCE's choice unless given); otherwise `model` itself. Larger
 * batches run in chunks. With `workers` (poolSettings() in onnx/workers.ts), predictHostAsync
 * runs on that many ONNX Runtime sessions on worker threads. Disposing the result disposes `model`.
 */
export async function fastInference(
  model: InferenceModel, inputShape: number[], engines: Engine[] | string = enginePreference(), opts: Omit<CompileOptions, "perExample"> = {},
): Promise<FastInference> {
  // per example: short batches are padded and their outputs cut, which already assumes it
  const r = await compileForward((x) => model.predict(x), inputShape, engines, { ...opts, perExample: true });
  if (!r.ok) {
    const predictHost = eagerHost(model);
    return {
      predict: (x) => model.predict(x), predictHost, predictHostAsync: async (x, n, shape) => predictHost(x, n, shape),
      folded: model.folded, runner: `eager: ${r.reason}`, dispose: () => model.dispose(),
    };
  }
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
