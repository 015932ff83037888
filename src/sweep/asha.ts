/**
 * Asynchronous successive halving (ASHA, Li et al., MLSys 2020), as a stopping rule: rungs sit
 * at epochs r·η^k; a trial reaching a rung continues only if its metric ranks in the top 1/η of
 * every value recorded at that rung so far (itself included). While fewer than η trials have
 * reached a rung, only the best so far continues. Decisions depend on arrival order, as in every
 * asynchronous scheduler; the rung values are kept in the sweep state so a resumed sweep decides
 * with the same history.
 */
export interface AshaRule {
  minEpochs: number;
  reductionFactor: number;
  /** True when larger metric values are better. */
  maximize: boolean;
}

/** The rung at this (global) epoch, or undefined when the epoch is not a rung. */
export function rungAt(rule: AshaRule, epoch: number): number | undefined {
  for (let r = rule.minEpochs; r <= epoch; r *= rule.reductionFactor) if (r === epoch) return r;
  return undefined;
}

/** Whether a trial whose value is `value` may continue past a rung holding `competing` (itself included). */
export function promotable(rule: AshaRule, value: number, competing: readonly number[]): boolean {
  const keep = Math.max(1, Math.floor(competing.length / rule.reductionFactor));
  const sorted = [...competing].sort((a, b) => (rule.maximize ? b - a : a - b));
  const threshold = sorted[keep - 1]!;
  return rule.maximize ? value >= threshold : value <= threshold;
}

/** Where rung values live: the sweep's memory, its coordinator over IPC, or Redis. */
export interface RungStore {
  /** Record `value` for `trial` at `rung` and say whether the trial continues. */
  report(trial: number, rung: number, value: number): Promise<boolean>;
}

/** Rung values in memory, optionally mirrored to the sweep state through `onRecord`. */
export class MemoryRungs implements RungStore {
  readonly rungs = new Map<number, Map<number, number>>();

  constructor(private readonly rule: AshaRule, private readonly onRecord?: (trial: number, rung: number, value: number) => void) {}

  /** Put back values recorded before a resume. */
  restore(trial: number, rung: number, value: number): void {
    if (!this.rungs.has(rung)) this.rungs.set(rung, new Map());
    this.rungs.get(rung)!.set(trial, value);
  }

  async report(trial: number, rung: number, value: number): Promise<boolean> {
    return this.decide(trial, rung, value);
  }

  decide(trial: number, rung: number, value: number): boolean {
    this.restore(trial, rung, value);
    this.onRecord?.(trial, rung, value);
    return promotable(this.rule, value, [...this.rungs.get(rung)!.values()]);
  }
}
