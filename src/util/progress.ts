/** What the progress line shows of a training batch report (training's BatchLogs carries it). */
export interface BatchProgress {
  epoch: number;
  epochs: number;
  batch: number;
  batches: number;
  loss: number;
  images_per_second: number;
  /** Seconds since the epoch started. */
  seconds: number;
}

/** A function that forwards at most one call per `ms`, plus `now` to force one through. */
export interface Throttled {
  (line: string): void;
  now(line: string): void;
}

export function throttle(fn: (line: string) => void, ms: number): Throttled {
  let last = 0;
  const t = ((line: string) => {
    const now = Date.now();
    if (now - last >= ms) {
      last = now;
      fn(line);
    }
  }) as Throttled;
  t.now = (line: string) => {
    last = Date.now();
    fn(line);
  };
  return t;
}

/** The live line of a training stage: epoch, batch, loss, throughput and time left. */
export function progressLine(b: BatchProgress, valAccuracy?: number): string {
  const left = b.batches - b.batch + (b.epochs - b.epoch) * b.batches;
  const eta = b.batch > 0 ? formatSeconds((b.seconds / b.batch) * left) : "?";
  const val = valAccuracy === undefined ? "" : ` val_acc ${valAccuracy.toFixed(4)}`;
  return `epoch ${b.epoch}/${b.epochs} batch ${b.batch}/${b.batches} loss ${b.loss.toFixed(4)}${val} ${b.images_per_second.toFixed(1)} img/s ETA ${eta}`;
}

/** 75 -> "1m15s", 3700 -> "1h01m". */
export function formatSeconds(s: number): string {
  const t = Math.round(s);
  if (t < 60) return `${t}s`;
  if (t < 3600) return `${Math.floor(t / 60)}m${String(t % 60).padStart(2, "0")}s`;
  return `${Math.floor(t / 3600)}h${String(Math.floor((t % 3600) / 60)).padStart(2, "0")}m`;
}
