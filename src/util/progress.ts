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

export interface ThrottleOptions {
  /**
   * Lines that pass at once, throttle or not, when the line last forwarded did not match: a
   * stage's first ETA is shown the moment it exists, not up to `ms` later. Outside a terminal
   * lines come every 5 s, and a short stage's first estimate waited for the next of them.
   */
  promptly?: (line: string) => boolean;
}

export function throttle(fn: (line: string) => void, ms: number, opts: ThrottleOptions = {}): Throttled {
  let last = 0;
  let lastPrompt = false;
  const forward = (line: string, prompt: boolean) => {
    last = Date.now();
    lastPrompt = prompt;
    fn(line);
  };
  const t = ((line: string) => {
    const prompt = opts.promptly?.(line) ?? false;
    if ((prompt && !lastPrompt) || Date.now() - last >= ms) forward(line, prompt);
  }) as Throttled;
  t.now = (line: string) => forward(line, opts.promptly?.(line) ?? false);
  return t;
}

/** The validation accuracy of the last finished epoch, shown on the next epoch's batch lines. */
export interface PreviousEpoch {
  epoch: number;
  valAccuracy: number;
}

/**
 * The live line of a training stage: epoch, batch, loss, throughput and time left. The
 * validation accuracy on a batch line is the previous epoch's, so it says which epoch it is from.
 */
export function progressLine(b: BatchProgress, etaSeconds?: number, previous?: PreviousEpoch): string {
  const val = previous === undefined ? "" : ` val_acc(ep${previous.epoch}) ${previous.valAccuracy.toFixed(4)}`;
  return `epoch ${b.epoch}/${b.epochs} batch ${b.batch}/${b.batches} loss ${b.loss.toFixed(4)}${val} ${b.images_per_second.toFixed(1)} img/s${etaToken(etaSeconds)}`;
}

/** Batches of a training stage done and in all, counting every epoch: what its ETA is measured in. */
export function trainingWork(b: BatchProgress): { done: number; total: number } {
  return { done: (b.epoch - 1) * b.batches + Math.min(b.batch, b.batches), total: b.epochs * b.batches };
}

/** Whether a progress line carries an estimate (the token `etaToken` writes). */
export const hasEta = (line: string): boolean => / ETA \d/.test(line);

/** " ETA 1m15s", or "" while there is no estimate: the token is left out, never shown as "?". */
export function etaToken(seconds: number | undefined): string {
  return seconds === undefined ? "" : ` ETA ${formatSeconds(seconds)}`;
}

/** 75 -> "1m15s", 3700 -> "1h01m". */
export function formatSeconds(s: number): string {
  const t = Math.round(s);
  if (t < 60) return `${t}s`;
  if (t < 3600) return `${Math.floor(t / 60)}m${String(t % 60).padStart(2, "0")}s`;
  return `${Math.floor(t / 3600)}h${String(Math.floor((t % 3600) / 60)).padStart(2, "0")}m`;
}

/** A progress line's rate and ETA tokens ("412.0 img/s", then `also`, then "ETA 1m15s"), each left out while unknown. */
export function rateEtaParts(rate: number | undefined, left: number | undefined, unit: string, also: string[] = []): string[] {
  return [...(rate === undefined ? [] : [`${rate.toFixed(1)} ${unit}`]), ...also, ...(left === undefined ? [] : [`ETA ${formatSeconds(left)}`])];
}

/** Milliseconds on a monotonic clock: performance.now in use, a fake one in tests. */
export type Clock = () => number;

export interface EtaOptions {
  /** Reports that are warm-up whatever their timing (graph building, worker start, decode pools). */
  warmupReports?: number;
  /** Seconds after the first report that are still warm-up. */
  warmupSeconds?: number;
  /** Seconds of progress measured after the warm-up before an estimate is shown. */
  settleSeconds?: number;
  clock?: Clock;
}

/**
 * A training stage's estimator: its first batch has built the step's kernels by the time it
 * reports, and the batches after it run at one pace, so it needs less warm-up than extract's
 * worker start. With the defaults (2 s, then 3 s to settle), a 70 s train-head at 100k images,
 * whose first 2 s go to checking the cached features, showed its first ETA at 10.4% of the stage.
 */
export const TRAINING_ETA: EtaOptions = { warmupSeconds: 1, settleSeconds: 2 };

interface Sample {
  t: number;
  done: number;
  bytes: number;
}

/**
 * The shortest window a rate is measured over, once the warm-up is over. Work arrives in bursts
 * (decode workers fill a queue, a chunk of augmented views is read from the pixel cache), and a
 * few seconds' window early in a stage caught one: extract's ETA at a tenth of a 30k-image run
 * was 31% short.
 */
const MIN_WINDOW_MS = 20_000;

/** Samples closer together than this, or than a thousandth of the time measured, are not kept: a window needs only so many points. */
const SAMPLE_MS = 50;

/**
 * Time left of a stage, estimated from the rate measured after its warm-up. The first batches
 * of a stage pay for graph building, worker start and decode pools, and a rate averaged over
 * them made the first ETAs 4–20× too long; so nothing before the warm-up's end counts, and no
 * estimate is given until some steady progress has been measured. The rate is taken over the
 * later half of the time since the warm-up, and at least its last 20 s: long enough to smooth
 * batch-to-batch noise and bursts, recent enough to follow a stage that changes pace
 * (augmented views, more layers unfrozen).
 */
export class Eta {
  private readonly warmupReports: number;
  private readonly warmupMs: number;
  private readonly settleMs: number;
  private readonly clock: Clock;
  private reports = 0;
  private first?: Sample;
  private last?: Sample;
  /** Samples since the warm-up ended, oldest first; [0] is the anchor until the window moves past it. */
  private samples: Sample[] = [];
  private anchorT?: number;

  constructor(private total: number, opts: EtaOptions = {}) {
    this.warmupReports = opts.warmupReports ?? 3;
    this.warmupMs = (opts.warmupSeconds ?? 2) * 1000;
    this.settleMs = (opts.settleSeconds ?? 3) * 1000;
    this.clock = opts.clock ?? (() => performance.now());
  }

  /** Record that `done` units of the total are finished (and `bytes` read so far, for a byte rate). */
  update(done: number, bytes = 0): void {
    const s: Sample = { t: this.clock(), done, bytes };
    this.reports++;
    this.first ??= s;
    this.last = s;
    if (this.anchorT === undefined) {
      if (this.reports > this.warmupReports && s.t - this.first.t >= this.warmupMs) {
        this.anchorT = s.t;
        this.samples.push(s);
      }
      return;
    }
    const prev = this.samples[this.samples.length - 1]!;
    if (s.t - prev.t >= Math.max(SAMPLE_MS, (s.t - this.anchorT) / 1000)) this.samples.push(s);
    this.dropBefore(this.windowStart(s.t));
  }

  /** Change the total when the work turns out larger or smaller than announced. */
  setTotal(total: number): void {
    this.total = total;
  }

  /** Seconds left, once the estimate is stable; undefined before. */
  get seconds(): number | undefined {
    const r = this.windowRates();
    if (!r || r.units <= 0) return undefined;
    return Math.max(0, this.total - this.last!.done) / r.units;
  }

  /** Units per second: over the window once it is stable, since the first report before that. */
  get rate(): number | undefined {
    return this.windowRates()?.units ?? this.sinceFirst()?.units;
  }

  /** Bytes per second, measured like `rate`. */
  get byteRate(): number | undefined {
    return this.windowRates()?.bytes ?? this.sinceFirst()?.bytes;
  }

  /**
   * The rate and ETA tokens of a progress line ("412.0 img/s", then `also`, then "ETA 1m15s"), the
   * rate and the ETA each left out while unknown.
   */
  parts(unit: string, also: string[] = []): string[] {
    return rateEtaParts(this.rate, this.seconds, unit, also);
  }

  private sinceFirst(): { units: number; bytes: number } | undefined {
    return this.first && this.last && this.last.t > this.first.t ? rates(this.first, this.last) : undefined;
  }

  private windowRates(): { units: number; bytes: number } | undefined {
    const now = this.last;
    if (this.anchorT === undefined || !now || now.t - this.anchorT < this.settleMs) return undefined;
    const start = this.startSample(this.windowStart(now.t));
    return start && now.t > start.t ? rates(start, now) : undefined;
  }

  /**
   * Where the window opens: it spans the later half of the time since the warm-up, or the last
   * MIN_WINDOW_MS if that is longer (all of it, early on); it never moves back.
   */
  private windowStart(t: number): number {
    return Math.max(this.anchorT!, Math.min(t - Math.max(this.settleMs, MIN_WINDOW_MS), (t + this.anchorT!) / 2));
  }

  /** The latest kept sample at or before `t`. */
  private startSample(t: number): Sample | undefined {
    let found: Sample | undefined;
    for (const s of this.samples) {
      if (s.t > t) break;
      found = s;
    }
    return found;
  }

  /** Forget samples older than the one the window opens at: the window's start only moves forward. */
  private dropBefore(t: number): void {
    let i = 0;
    while (i + 1 < this.samples.length && this.samples[i + 1]!.t <= t) i++;
    if (i > 0) this.samples.splice(0, i);
  }
}

function rates(a: Sample, b: Sample): { units: number; bytes: number } {
  const secs = (b.t - a.t) / 1000;
  return { units: (b.done - a.done) / secs, bytes: (b.bytes - a.bytes) / secs };
}
