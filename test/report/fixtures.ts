/**
 * Hand-built report.json contents and run folders for the report tests, from the contract in
 * evaluation/types.ts: curves and counts that hang together, so the figures look like a real run's.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import type { Curve, EvaluationReport, OperatingPoint } from "../../src/evaluation/types";
import type { RunSummary } from "../../src/runs/record";

const est = (value: number | null, spread = 0.04) => ({ value, low: value === null ? null : Math.max(0, value - spread), high: value === null ? null : Math.min(1, value + spread) });

/** A smooth concave ROC curve of roughly the given AUC, with thresholds falling from 1 to 0. */
function roc(auc: number, n = 25): Curve {
  const k = auc / (1 - auc); // y = 1 - (1 - x)^k has area k / (k + 1)
  const x = Array.from({ length: n }, (_, i) => i / (n - 1));
  return { x, y: x.map((v) => 1 - (1 - v) ** k), thresholds: x.map((v) => 1 - v) };
}
function pr(ap: number, n = 25): Curve {
  const x = Array.from({ length: n }, (_, i) => i / (n - 1));
  return { x, y: x.map((r) => Math.max(0.05, 1 - (1 - ap) * 2 * r ** 2)), thresholds: x.map((v) => 1 - v) };
}
const point = (threshold: number, tp: number, fn: number, tn: number, fp: number): OperatingPoint => ({
  threshold, tp, fp, tn, fn,
  sensitivity: est(tp / (tp + fn)), specificity: est(tn / (tn + fp)), ppv: est(tp + fp ? tp / (tp + fp) : null), npv: est(tn + fn ? tn / (tn + fn) : null),
});
const calibration = (): EvaluationReport["calibration"] => ({
  ece: 0.047,
  bins: Array.from({ length: 10 }, (_, i) => {
    const count = i < 3 ? 2 * i : 4 + i * 6;
    const confidence = count ? i / 10 + 0.05 : null;
    return { lo: i / 10, hi: (i + 1) / 10, count, confidence, accuracy: confidence === null ? null : Math.min(1, Math.max(0, confidence - 0.06 + (i % 3) * 0.03)) };
  }),
});

/** A screening task: 12 positives of 78, threshold chosen for sensitivity on val. */
export function binaryReport(over: Partial<EvaluationReport> = {}): EvaluationReport {
  const classes = ["Normal", "Tuberculosis"];
  return {
    split: "test", source: "images", classes, n: 78,
    accuracy: est(0.872), macro_precision: 0.761, macro_recall: 0.856, macro_f1: est(0.792), macro_auc: est(0.93), log_loss: 0.31,
    per_class: {
      Normal: { precision: 58 / 60, recall: 58 / 66, specificity: 10 / 12, f1: 0.921, support: 66, auc: 0.93 },
      Tuberculosis: { precision: 10 / 18, recall: 10 / 12, specificity: 58 / 66, f1: 0.667, support: 12, auc: 0.93 },
    },
    confusion: [[58, 8], [2, 10]],
    calibration: calibration(), roc: {}, pr: {},
    binary: {
      positive_class: "Tuberculosis", negative_class: "Normal", rule: "target_sensitivity=0.9", threshold: 0.2314,
      val: point(0.2314, 11, 1, 52, 12), test: point(0.2314, 10, 2, 58, 8), auc: est(0.93, 0.05), roc: roc(0.93), pr: pr(0.7), average_precision: 0.71,
    },
    bootstrap: { resamples: 1000, seed: 42, confidence: 0.95 },
    warnings: [{ kind: "small_split", message: "the test split holds only 12 images of Tuberculosis: its intervals are wide" }],
    weights: "fine-tune", explain: [],
    ...over,
  };
}

/** A k-class task with argmax decisions and one-vs-rest curves per class. */
export function multiReport(k: number, names?: string[]): EvaluationReport {
  const classes = names ?? Array.from({ length: k }, (_, i) => `class_${i}`);
  const confusion = classes.map((_, i) => classes.map((_, j) => (i === j ? 20 + i : (i + j) % 3)));
  const per_class: EvaluationReport["per_class"] = {};
  const curves: Record<string, Curve> = {}, prs: Record<string, Curve> = {};
  classes.forEach((c, i) => {
    const auc = 0.8 + (0.19 * i) / k;
    per_class[c] = { precision: 0.7 + i / (20 * k), recall: 0.75, specificity: 0.97, f1: 0.72, support: confusion[i]!.reduce((a, b) => a + b, 0), auc };
    curves[c] = roc(auc);
    prs[c] = pr(auc - 0.1);
  });
  return {
    split: "test", source: "cached features", classes, n: confusion.flat().reduce((a, b) => a + b, 0),
    accuracy: est(0.78), macro_precision: 0.74, macro_recall: 0.75, macro_f1: est(0.72), macro_auc: est(0.9), log_loss: 0.7,
    per_class, confusion, calibration: calibration(), roc: curves, pr: prs, binary: null,
    bootstrap: { resamples: 1000, seed: 42, confidence: 0.95 }, warnings: [], weights: "head-kept", explain: [],
  };
}

/** A finished run folder as the executor leaves it, around a given report. */
export function runFolder(report: EvaluationReport, opts: { explainPng?: Buffer; headEpochs?: number; fineEpochs?: number } = {}): string {
  const dir = mkdtempSync(join(tmpdir(), "tlrun-report-"));
  const headEpochs = opts.headEpochs ?? 8, fineEpochs = opts.fineEpochs ?? 5;
  const config = {
    name: "tb-screening", data: { dir: "./data" },
    train: {
      head: { epochs: 10, early_stopping: { enabled: true, monitor: "val_loss", patience: 3, min_delta: 0, restore_best: true } },
      fine_tune: { epochs: 5, early_stopping: { enabled: false, monitor: "val_loss", patience: 0, min_delta: 0, restore_best: false } },
    },
    evaluate: { positive_class: report.binary?.positive_class ?? "", threshold: { target_sensitivity: 0.9 } },
  };
  writeFileSync(join(dir, "config.resolved.yaml"), stringify(config));
  const lines: string[] = [];
  for (let e = 1; e <= headEpochs; e++)
    lines.push(JSON.stringify({ type: "epoch", cached: false, phase: "head", epoch: e, epochs: 10, global_epoch: e, loss: 0.9 / e + 0.1, accuracy: 0.6 + 0.3 * (1 - 1 / e), val_loss: 0.8 / e + 0.2 + (e > 5 ? 0.02 * (e - 5) : 0), val_accuracy: 0.62 + 0.25 * (1 - 1 / e), learning_rate: 0.001, images_per_second: 900, seconds: 1.2 }));
  for (let e = 1; e <= fineEpochs; e++)
    lines.push(JSON.stringify({ type: "epoch", cached: false, phase: "fine_tune", epoch: e, epochs: 5, global_epoch: headEpochs + e, loss: 0.2 - 0.02 * e, accuracy: 0.9 + 0.01 * e, val_loss: 0.3 - 0.01 * e, val_accuracy: 0.86 + 0.005 * e, learning_rate: 1e-5, images_per_second: 120, seconds: 6 }));
  lines.push(JSON.stringify({ type: "final", test_accuracy: report.accuracy.value }));
  writeFileSync(join(dir, "metrics.jsonl"), lines.join("\n") + "\n");
  const summary: RunSummary = {
    run_id: "20261205-210000-tb-screening-abcd1234", run_dir: dir, name: "tb-screening", status: "completed", backend: "native (tfjs-node)",
    started_at: "2026-12-05T21:00:00.000Z", ended_at: "2026-12-05T21:03:10.000Z", seconds: 190,
    stages: [
      { name: "dataset", cached: true, seconds: 0, key: "d".repeat(64) },
      { name: "weights", cached: true, seconds: 0, key: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
      { name: "train-head", cached: false, seconds: 12, key: "k1", info: { epochs_run: headEpochs, best_epoch: 5, stopped_early: true } },
      { name: "fine-tune", cached: false, seconds: 30, key: "k2", info: { epochs_run: fineEpochs, best_epoch: fineEpochs, stopped_early: false, frozen_forward: "compiled" } },
      { name: "evaluate", cached: false, seconds: 3, key: "k3", info: { forward: "compiled" } },
    ],
    metrics: { test_accuracy: report.accuracy.value }, warnings: ["tfjs-node 4.21.0 is installed, not the pinned 4.22.0: training runs eagerly"],
  };
  writeFileSync(join(dir, "summary.json"), JSON.stringify(summary, null, 2));
  writeFileSync(join(dir, "report.json"), JSON.stringify(report, null, 2));
  const counts: Record<string, Record<string, number>> = {};
  for (const [s, f] of [["train", 5], ["val", 1], ["test", 1]] as const) counts[s] = Object.fromEntries(report.classes.map((c) => [c, (report.per_class[c]?.support ?? 1) * f]));
  writeFileSync(join(dir, "manifest.json"), JSON.stringify({ version: 1, classes: report.classes, items: [], bad: [], skipped: [], counts }));
  if (opts.explainPng) {
    mkdirSync(join(dir, "plots"), { recursive: true });
    writeFileSync(join(dir, "plots", "explain_00.png"), opts.explainPng);
  }
  return dir;
}
