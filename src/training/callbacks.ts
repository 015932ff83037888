import type { BatchProgress } from "../util/progress";
/** What a training loop reports after each epoch; one global step runs across phases. */
export interface EpochLogs {
  phase: string;
  epoch: number;
  epochs: number;
  global_epoch: number;
  loss: number;
  accuracy: number;
  val_loss: number;
  val_accuracy: number;
  learning_rate: number;
  images_per_second: number;
  seconds: number;
}

/** A batch's report: the phase and what the progress line shows. */
export interface BatchLogs extends BatchProgress {
  phase: string;
}

/** Hooks into a training loop (the tfjs-layers BaseCallback idea). Hooks must not throw. */
export interface Callback {
  onEpochEnd?(logs: EpochLogs): void;
  onBatchEnd?(logs: BatchLogs): void;
  /** An epoch finished by an earlier, interrupted process, replayed from a checkpoint before training goes on. */
  onEpochRestored?(logs: EpochLogs): void;
}

/** Fan one event out to many callbacks; a failing callback is reported once and never stops training. */
export class CallbackList implements Callback {
  private readonly failed = new Set<Callback>();

  constructor(private readonly callbacks: Callback[], private readonly warn: (msg: string) => void = () => {}) {}

  private each(fn: (cb: Callback) => void): void {
    for (const cb of this.callbacks) {
      try {
        fn(cb);
      } catch (err) {
        if (!this.failed.has(cb)) this.warn(`a training callback failed and was ignored: ${(err as Error).message}`);
        this.failed.add(cb);
      }
    }
  }

  onEpochEnd(logs: EpochLogs): void {
    this.each((cb) => cb.onEpochEnd?.(logs));
  }

  onBatchEnd(logs: BatchLogs): void {
    this.each((cb) => cb.onBatchEnd?.(logs));
  }

  onEpochRestored(logs: EpochLogs): void {
    this.each((cb) => cb.onEpochRestored?.(logs));
  }
}
