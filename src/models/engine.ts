import * as tf from "@tensorflow/tfjs";
import { EXIT, TlrunError } from "../errors";
import { compiledInference } from "./compiled";
import type { FastInference, ForwardOptions } from "./inference-types";
import type { InferenceModel } from "./fold";
import { ORT_BINDING } from "./onnx/runtime";
import { checkPrivateApi, installed, type Probe } from "./pins";
import { TRACE_HOOK } from "./trace";

/**
 * How frozen forward passes (extract, evaluate, fine-tune's frozen bottom) run in this process:
 * `eager`, op by op in tfjs, or `onnxruntime`, recorded once and compiled to ONNX Runtime
 * (compiled.ts). The engine is chosen once per process (inferenceEngine), and every frozen pass
 * goes through its `forward`. TLRUN_INFERENCE=auto|onnxruntime|eager pins it.
 */
export type EngineName = "eager" | "onnxruntime";

export interface InferenceEngine {
  readonly name: EngineName;
  /** Why this engine: "auto", "TLRUN_INFERENCE=eager", or the check that sent this process to eager. */
  readonly reason: string;
  /** The reason again when it is a pinned package installed at another version or without a member: a run warning. */
  readonly warning?: string;
  /**
   * `model` (one input) for batches up to `inputShape[0]` (larger ones run in chunks): compiled
   * when this engine can, otherwise `model` itself, with why in `runner`. Disposing the result
   * disposes `model`.
   */
  forward(model: InferenceModel, inputShape: number[], opts?: ForwardOptions): Promise<FastInference>;
}

export type { FastInference, ForwardOptions } from "./inference-types";

export type InferenceSetting = "auto" | EngineName;

/** TLRUN_INFERENCE, or a usage error naming the values it takes. */
export function inferenceSetting(): InferenceSetting {
  const v = (process.env.TLRUN_INFERENCE ?? "").trim().toLowerCase();
  if (v === "" || v === "auto") return "auto";
  if (v === "eager" || v === "onnxruntime") return v;
  const was = v === "tensorflow" ? " (the TensorFlow session engine was removed)" : "";
  throw new TlrunError(`TLRUN_INFERENCE=${process.env.TLRUN_INFERENCE} is not an engine${was}\n  hint: set it to auto, onnxruntime or eager, or unset it`, EXIT.usage);
}

/** `model` as it is, with `why` it is not compiled. */
export function eagerInference(model: InferenceModel, why: string): FastInference {
  const predictHost: FastInference["predictHost"] = (x, n, shape) => {
    const t = tf.tensor(x.subarray(0, n * shape.reduce((a, b) => a * b, 1)), [n, ...shape], "float32");
    const outs = model.predict(t);
    t.dispose();
    const data = outs.map((o) => o.dataSync() as Float32Array);
    tf.dispose(outs);
    return data;
  };
  return {
    predict: (x) => model.predict(x), predictHost, predictHostAsync: async (x, n, shape) => predictHost(x, n, shape),
    folded: model.folded, runner: `eager: ${why}`, dispose: () => model.dispose(),
  };
}

function eagerEngine(reason: string, warning?: string): InferenceEngine {
  return { name: "eager", reason, ...(warning ? { warning } : {}), forward: async (model) => eagerInference(model, reason) };
}

/** Compiles each pass, checked against eager; a pass it cannot compile (an op ONNX export lacks, another backend) runs eagerly with why. */
function onnxEngine(reason: string): InferenceEngine {
  return {
    name: "onnxruntime", reason,
    async forward(model, inputShape, opts) {
      const r = await compiledInference(model, inputShape, opts);
      return typeof r === "string" ? eagerInference(model, r) : r;
    },
  };
}

/**
 * The engine for `setting`: onnxruntime unless asked for eager, or unless a private API it needs
 * (onnxruntime-node's binding, tfjs-node's executeSingleOutput hook) is missing, at another
 * version than the pinned one, or lacks a member; then eager, with that one line as the reason.
 */
export function chooseEngine(setting: InferenceSetting, probe: Probe = installed): InferenceEngine {
  if (setting === "eager") return eagerEngine("TLRUN_INFERENCE=eager");
  for (const api of [ORT_BINDING, TRACE_HOOK]) {
    const refused = checkPrivateApi(api, "compiled inference", "frozen passes run eagerly", probe);
    if (refused) return eagerEngine(refused.line, refused.mismatch || setting === "onnxruntime" ? refused.line : undefined);
  }
  return onnxEngine(setting === "auto" ? "auto" : "TLRUN_INFERENCE=onnxruntime");
}

let chosen: InferenceEngine | undefined;

/** This process's engine, chosen on first use (after the backend is selected) and kept. */
export function inferenceEngine(): InferenceEngine {
  return (chosen ??= chooseEngine(inferenceSetting()));
}
