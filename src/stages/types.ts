import type { BackendInfo } from "../backend/select";
import type { EntryMeta } from "../cache/store";
import type { LoadedConfig, PipelineConfig } from "../config/types";
import type { StageName, StageNode } from "../plan/compile";
import type { Plan } from "../plan/resolve";
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
  /** The resolved plan this stage is part of (its freeze plan, sources). */
  plan: Plan;
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
  /** A line the user must see now (resuming from a checkpoint), not overwritten by the next progress update within the throttle. */
  note(line: string): void;
  /**
   * Where a training stage keeps its end-of-epoch checkpoint (beside its cache entry, under its
   * key), and whether to continue from one found there (not with --force); absent: none kept.
   */
  checkpoint?: { dir: string; resume: boolean };
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

/** What a source stage (dataset, weights) gets: it writes its output where the config says, not into the cache. */
export interface SourceContext {
  loaded: LoadedConfig;
  config: PipelineConfig;
  /** Absolute data folder. */
  dataDir: string;
  /** A progress line for the terminal. */
  progress(line: string): void;
}

/** A stage whose output lives outside the stage cache; running it makes the output present. */
export interface SourceStage {
  name: StageName;
  run(ctx: SourceContext): Promise<void>;
}
