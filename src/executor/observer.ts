import type { LoadedConfig } from "../config/types";
import type { RunRecord, RunSummary } from "../runs/record";
import type { EpochLogs } from "../training/callbacks";

/** A finished stage as observers see it. */
export interface StageEvent {
  name: string;
  cached: boolean;
  seconds: number;
  key: string;
  info: Record<string, unknown>;
}

/**
 * Something that follows a run as it happens, such as the MLflow tracker. Observers are called
 * on the training loop's thread, so they must return quickly and queue any slow work; an
 * observer that throws is reported once and then ignored, never failing the run.
 */
export interface RunObserver {
  onRunStart?(run: { record: RunRecord; summary: RunSummary; loaded: LoadedConfig }): void;
  onEpochEnd?(logs: EpochLogs & { cached: boolean }): void;
  onStageEnd?(stage: StageEvent): void;
  /** Called once with the final summary (completed, failed or interrupted); may flush. */
  onRunEnd?(summary: RunSummary, record: RunRecord): Promise<void> | void;
}

/** Fan events out to observers, isolating failures. */
export class Observers {
  private readonly failed = new Set<RunObserver>();

  constructor(private readonly list: RunObserver[], private readonly warn: (msg: string) => void) {}

  private guard(o: RunObserver, fn: () => unknown): void {
    if (this.failed.has(o)) return;
    try {
      const r = fn();
      if (r instanceof Promise) r.catch((err) => this.fail(o, err));
    } catch (err) {
      this.fail(o, err);
    }
  }

  private fail(o: RunObserver, err: unknown): void {
    this.failed.add(o);
    this.warn(`a run observer failed and was switched off: ${(err as Error)?.message ?? err}`);
  }

  emit<K extends "onRunStart" | "onEpochEnd" | "onStageEnd">(event: K, arg: Parameters<NonNullable<RunObserver[K]>>[0]): void {
    for (const o of this.list) this.guard(o, () => (o[event] as ((a: unknown) => unknown) | undefined)?.call(o, arg));
  }

  async end(summary: RunSummary, record: RunRecord): Promise<void> {
    for (const o of this.list) {
      if (this.failed.has(o)) continue;
      try {
        await o.onRunEnd?.(summary, record);
      } catch (err) {
        this.fail(o, err);
      }
    }
  }
}
