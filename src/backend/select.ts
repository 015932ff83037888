import * as tf from "@tensorflow/tfjs";
import { setNativePackage } from "../models/native-package";
import { dirname, join } from "node:path";
import type { BackendChoice } from "../config/types";
import { TlrunError } from "../errors";

/** The backend a run uses, as reported in summaries and `tlrun doctor`. */
export type BackendName = "native" | "native-gpu" | "wasm" | "cpu";

export interface BackendInfo {
  name: BackendName;
  /** The tfjs backend id (tensorflow, wasm, cpu). */
  tfBackend: string;
  /** Why earlier choices in the fallback order were passed over. */
  skipped: Array<{ name: BackendName; reason: string }>;
  /** True when this backend can compute convolution gradients (fine-tuning). */
  canTrainConv: boolean;
}

const ORDER: BackendName[] = ["native-gpu", "native", "wasm", "cpu"];
const NODE_PACKAGE: Record<"native" | "native-gpu", string> = {
  native: "@tensorflow/tfjs-node",
  "native-gpu": "@tensorflow/tfjs-node-gpu",
};

let active: BackendInfo | undefined;
let autoChoice: BackendInfo | undefined;
const loaded = new Map<BackendName, BackendInfo>();

/**
 * Native backend settings. TensorFlow's own thread defaults (one intra-op thread per core) were
 * as fast as any explicit setting we measured (docs/native-backend.md), so TF_NUM_INTRAOP_THREADS
 * and TF_NUM_INTEROP_THREADS are left to the user. Each of these only sets a default: a value in
 * the environment wins.
 */
function configureThreads(): void {
  process.env.TF_CPP_MIN_LOG_LEVEL ??= "2";
  // TensorFlow 2.9 turns oneDNN on by itself only on CPUs with AVX-512 VNNI, BF16 or AMX, so an
  // AVX2 machine (an AMD EPYC here) ran the Eigen kernels: slower, and the Eigen depthwise
  // convolution ignores its dilation (a wrong output shape, that tfjs then carries on with).
  process.env.TF_ENABLE_ONEDNN_OPTS ??= "1";
  // Eager ops otherwise get every output from malloc, which maps fresh pages for each large
  // activation: the BFC allocator measured 2.5x faster extraction at 224 px and flat memory.
  process.env.TF_CPU_ALLOCATOR_USE_BFC ??= "true";
}

async function tryLoad(name: BackendName): Promise<string> {
  if (name === "native" || name === "native-gpu") {
    configureThreads();
    require(NODE_PACKAGE[name]);
    if (!(await tf.setBackend("tensorflow"))) throw new Error("the tensorflow backend did not initialise");
    setNativePackage(NODE_PACKAGE[name]);
    return "tensorflow";
  }
  if (name === "wasm") {
    const wasm = require("@tensorflow/tfjs-backend-wasm") as typeof import("@tensorflow/tfjs-backend-wasm");
    const dist = dirname(require.resolve("@tensorflow/tfjs-backend-wasm/package.json"));
    wasm.setWasmPaths(join(dist, "dist") + "/");
    if (!(await tf.setBackend("wasm"))) throw new Error("the wasm backend did not initialise");
    return "wasm";
  }
  if (!(await tf.setBackend("cpu"))) throw new Error("the cpu backend did not initialise");
  return "cpu";
}

function shortReason(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  if (/Cannot find module/.test(msg)) return "not installed";
  return msg.split("\n")[0]!.slice(0, 200);
}

/**
 * Load a backend: the one asked for, or with `auto` the fastest that loads, in the order
 * native-gpu, native, wasm, cpu. An explicit choice that cannot load is an error, not a fallback.
 */
export async function selectBackend(choice: BackendChoice = "auto"): Promise<BackendInfo> {
  const envChoice = process.env.TLRUN_BACKEND as BackendChoice | undefined;
  const want = choice === "auto" && envChoice ? envChoice : choice;
  if (want === "auto" && autoChoice) return selectBackend(autoChoice.name);
  if (active && want === active.name) return active;
  const known = loaded.get(want as BackendName);
  if (known && (await tf.setBackend(known.tfBackend))) return (active = known);
  const candidates = want === "auto" ? ORDER : [want as BackendName];
  const skipped: BackendInfo["skipped"] = [];
  for (const name of candidates) {
    try {
      const tfBackend = await tryLoad(name);
      active = { name, tfBackend, skipped, canTrainConv: name !== "wasm" };
      if (want === "auto") autoChoice = active;
      loaded.set(name, active);
      return active;
    } catch (err) {
      skipped.push({ name, reason: shortReason(err) });
    }
  }
  const why = skipped.map((s) => `${s.name}: ${s.reason}`).join("; ");
  throw new TlrunError(`backend '${want}' could not be loaded (${why}); try --backend auto`, 1);
}

/** The backend chosen so far, if any. */
export function activeBackend(): BackendInfo | undefined {
  return active;
}
