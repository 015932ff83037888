import type { BackendInfo } from "../backend/select";
import type { EntryMeta } from "../cache/store";
import type { LoadedConfig, PipelineConfig } from "../config/types";
import type { StageName, StageNode } from "../dag/compile";
import type { ModelArtifacts } from "../models/source";
import type { Callback } from "../training/callbacks";

/** An upstream stage's committed output. */
export interface StageInput {
  dir: string;
  meta: EntryMeta;
}

/** What a stage gets to do its work; it writes only into `out`. */
export interface StageContext {
  loaded: LoadedConfig;
  config: PipelineConfig;
  node: StageNode;
  key: string;
  /** A temporary folder that becomes the cache entry when the stage succeeds. */
  out: string;
  inputs: ReadonlyMap<StageName, StageInput>;
  /** Absolute data folder. */
  dataDir: string;
  artifacts(): ModelArtifacts;
  backend: BackendInfo;
  /** Epochs already trained by earlier phases, for the global step. */
  epochOffset: number;
  /** The live progress line of this stage. */
  progress(line: string): void;
  warn(message: string): void;
  callbacks: Callback;
  /** Throws InterruptedError once the run has been asked to stop. */
  checkAbort(): void;
}

/** What a stage returns besides its files; kept in the cache entry's meta.json. */
export interface StageResult {
  /** Identity of the output for downstream keys; defaults to the stage key. */
  digest?: string;
  info: Record<string, unknown>;
}

export interface Stage {
  name: StageName;
  /** True when the stage needs TensorFlow (prepare does not). */
  needsTf: boolean;
  /** True when the stage computes convolution gradients, which wasm lacks. */
  needsConvGrad?: boolean;
  run(ctx: StageContext): Promise<StageResult>;
}

export function input(ctx: StageContext, name: StageName): StageInput {
  const i = ctx.inputs.get(name);
  if (!i) throw new Error(`internal: stage '${ctx.node.name}' ran without its input '${name}'`);
  return i;
}
