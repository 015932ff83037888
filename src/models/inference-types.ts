import type { InferenceModel } from "./fold";

/** What a frozen forward pass is asked for and what it gives, whichever engine runs it (engine.ts). */

export interface ForwardOptions {
  /** ONNX Runtime sessions to start on worker threads for predictHostAsync (onnx/workers.ts' poolSettings()). */
  workers?: WorkerSettings;
  /**
   * What the model computes, for the graph cache (onnx/graph-cache.ts): equal keys must mean equal
   * functions (weights, architecture, cut, input size). Without it every call records afresh.
   */
  cacheKey?: string;
}

/** An InferenceModel and how its forward pass runs ("onnxruntime 1.30.0, N ops" or "eager: <why>"). */
export type FastInference = InferenceModel & {
  readonly runner: string;
  /** The outputs for `n` inputs of `shape` (batch dim excluded) in host memory, as host arrays. */
  predictHost(x: Float32Array, n: number, shape: readonly number[]): Float32Array[];
  /**
   * predictHost on the inference workers when `forward` was asked for them and they started;
   * otherwise here. `x` is copied before this returns, so the caller may refill it.
   */
  predictHostAsync(x: Float32Array, n: number, shape: readonly number[]): Promise<Float32Array[]>;
};

/** How many ONNX Runtime sessions to start on worker threads, and the threads of each (onnx/workers.ts' poolSettings()). */
export interface WorkerSettings {
  workers: number;
  threads: number;
}
