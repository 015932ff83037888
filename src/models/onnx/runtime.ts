import { availableParallelism } from "node:os";
import type { PrivateApi } from "../pins";

/**
 * ONNX Runtime (the optional `onnxruntime-node` package, CPU execution provider) as a
 * synchronous session: tlrun's inference models answer synchronously, and the package's public
 * `InferenceSession.run` only wraps the binding's synchronous run in a promise.
 */
export interface OrtSession {
  /** Run on one float32 input; returns each output's values and dims, in `outputs` order. */
  run(input: Float32Array, dims: readonly number[]): Array<{ data: Float32Array; dims: number[] }>;
  dispose(): void;
}

interface OrtTensor { data: unknown; dims: readonly number[]; type: string }
interface BindingSession {
  loadModel(buffer: ArrayBuffer, offset: number, length: number, options: object): void;
  run(feeds: Record<string, OrtTensor>, fetches: Record<string, null>, options: object): Record<string, OrtTensor>;
  dispose(): void;
  readonly inputMetadata: Array<{ name: string }>;
  readonly outputMetadata: Array<{ name: string }>;
}
interface Ort {
  version: string;
  Session: new () => BindingSession;
  Tensor: new (type: "float32", data: Float32Array, dims: readonly number[]) => OrtTensor;
}

/** The members of `onnxruntime-node/dist/binding` loadOrt and ortSession use (pins.ts checks them against the pinned version). */
export const ORT_BINDING: PrivateApi = {
  pkg: "onnxruntime-node",
  name: "private binding API",
  members: {
    initOrt: "function", binding: "object", "binding.InferenceSession": "function",
    ...Object.fromEntries(["loadModel", "run", "dispose"].map((m) => [`binding.InferenceSession.prototype.${m}`, "function" as const])),
    "binding.InferenceSession.prototype.inputMetadata": "getter", "binding.InferenceSession.prototype.outputMetadata": "getter",
  },
};

/**
 * ONNX Runtime 1.30's Linux build starts Microsoft's 1DS telemetry when its environment is made
 * (initOrt): that writes an empty `mat-debug-<pid>.log` and a `.ses` session file into $TMPDIR on
 * every run, and tries to upload usage events, which a run over medical images must not do.
 * ORT_DISABLE_TELEMETRY, read by the native library when the environment is made, turns it off.
 * It is set here, at import, because a worker thread's process.env is its own copy that the
 * native library never sees: this module is imported on the main thread (workers.ts) before any
 * inference worker starts. A value the user set is kept.
 */
process.env.ORT_DISABLE_TELEMETRY ??= "1";

let loaded: Ort | string | undefined;

/** onnxruntime-node if it is installed and its native library loads, or why not. */
export function loadOrt(): Ort | string {
  if (loaded !== undefined) return loaded;
  try {
    const version = (require("onnxruntime-node/package.json") as { version: string }).version;
    const { binding, initOrt } = require("onnxruntime-node/dist/binding") as { binding: { InferenceSession: Ort["Session"] }; initOrt(): void };
    const { Tensor } = require("onnxruntime-node") as { Tensor: Ort["Tensor"] };
    initOrt();
    loaded = { version, Session: binding.InferenceSession, Tensor };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    loaded = code === "MODULE_NOT_FOUND" ? "onnxruntime-node is not installed" : `onnxruntime-node does not load: ${(err as Error).message.split("\n")[0]}`;
  }
  return loaded;
}

/**
 * Threads for one session: TF_NUM_INTRAOP_THREADS when set (the same knob as TensorFlow's, so
 * one variable shares a machine between runs), otherwise one per core.
 */
export function ortThreads(): number {
  const n = Number(process.env.TF_NUM_INTRAOP_THREADS);
  return Number.isInteger(n) && n > 0 ? n : availableParallelism();
}

/** A session over an ONNX model's bytes, with every graph optimization on, on `threads` threads (default ortThreads()). */
export function ortSession(ort: Ort, model: Uint8Array, threads = ortThreads()): OrtSession {
  const s = new ort.Session();
  s.loadModel(model.buffer as ArrayBuffer, model.byteOffset, model.byteLength, {
    executionProviders: [{ name: "cpu" }],
    graphOptimizationLevel: "all",
    executionMode: "sequential",
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    // Idle intra-op threads sleep instead of spinning between ops: spinning threads take the
    // cores the decode workers and the main thread need, and the extract stage ran 9.4-9.7 s
    // with it off against 10.7-11.2 s with it on (docs/native-backend.md). Denormal floats are
    // flushed to zero: MobileNetV2 at 128 px, batch 8 on two sessions, alternating, ran at
    // 468-625 img/s with it against 417-479 without; outputs still match eager within 1e-4.
    extra: { session: { set_denormal_as_zero: "1", intra_op: { allow_spinning: "0" } } },
  });
  const input = s.inputMetadata[0]!.name;
  const fetches = Object.fromEntries(s.outputMetadata.map((o) => [o.name, null]));
  const names = s.outputMetadata.map((o) => o.name);
  return {
    run(data, dims) {
      // ONNX Runtime refuses shared memory (the loader's batches are, with decode workers): a private copy
      const own = data.buffer instanceof SharedArrayBuffer ? data.slice() : data;
      const out = s.run({ [input]: new ort.Tensor("float32", own, dims) }, fetches, {});
      return names.map((n) => {
        const t = out[n]!;
        if (!(t.data instanceof Float32Array)) throw new Error(`output ${n} is ${t.type}, not float32`);
        return { data: t.data, dims: [...t.dims] };
      });
    },
    dispose: () => s.dispose(),
  };
}
