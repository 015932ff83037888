import type { ScheduleConfig } from "../config/types";

/**
 * The learning rate for `epoch` (0-based) within a phase of `epochs` epochs: linear warmup over
 * `warmup_epochs`, then constant, step decay, or cosine decay to `min_factor` of the base rate.
 */
export function learningRateAt(base: number, s: ScheduleConfig, epoch: number, epochs: number): number {
  if (epoch < s.warmup_epochs) return (base * (epoch + 1)) / (s.warmup_epochs + 1);
  const e = epoch - s.warmup_epochs;
  switch (s.type) {
    case "constant":
      return base;
    case "step":
      return base * Math.pow(s.gamma, Math.floor(e / Math.max(1, s.step_epochs)));
    case "cosine": {
      const span = Math.max(1, epochs - s.warmup_epochs - 1);
      const cos = 0.5 * (1 + Math.cos((Math.PI * Math.min(e, span)) / span));
      return base * (s.min_factor + (1 - s.min_factor) * cos);
    }
  }
}
