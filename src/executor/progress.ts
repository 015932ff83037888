import type { BatchLogs } from "../training/callbacks";

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
export function progressLine(b: BatchLogs): string {
  const left = b.batches - b.batch + (b.epochs - b.epoch) * b.batches;
  const perBatch = b.batch > 0 ? b.batch / Math.max(b.images_per_second, 1e-9) : 0;
  const eta = b.images_per_second > 0 ? `${Math.round((left * perBatch) / Math.max(b.batch, 1))}s` : "?";
  return `epoch ${b.epoch}/${b.epochs} batch ${b.batch}/${b.batches} loss ${b.loss.toFixed(4)} ${b.images_per_second.toFixed(1)} img/s ETA ${eta}`;
}
