import type { Estimate } from "../evaluation/types";

/** How the report page and the terminal table write numbers, so both read the same. */

/** A rate or score to three decimals; "n/a" for a value that could not be computed. */
export const num = (v: number | null | undefined, digits = 3): string => (typeof v === "number" && Number.isFinite(v) ? v.toFixed(digits) : "n/a");

/** A point estimate with its interval: "0.912 (0.871–0.944)", or just the value when intervals are off. */
export function estimate(e: Estimate | null | undefined, digits = 3): string {
  if (!e || e.value === null) return "n/a";
  return e.low === null || e.high === null ? num(e.value, digits) : `${num(e.value, digits)} (${num(e.low, digits)}–${num(e.high, digits)})`;
}

/** A threshold, with enough digits to be applied again. */
export const threshold = (t: number): string => (Number.isFinite(t) ? Number(t.toPrecision(4)).toString() : String(t));

/** The rule that chose the threshold, in words. */
export function ruleText(rule: string): string {
  if (rule === "0.5") return "default 0.5";
  if (rule === "fixed") return "fixed in the config";
  if (rule === "youden") return "Youden's J on validation";
  const m = /^target_sensitivity=(.+)$/.exec(rule);
  return m ? `sensitivity ≥ ${m[1]} on validation` : rule;
}
