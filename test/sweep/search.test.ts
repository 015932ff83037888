import { test } from "node:test";
import assert from "node:assert/strict";
import { promotable, rungAt, MemoryRungs } from "../../src/sweep/asha";
import { gridPoint, gridSize, randomPoint, toOverrides, type Dimension } from "../../src/sweep/space";
import { suggestTpe, type Observation } from "../../src/sweep/tpe";
import { assignmentFor } from "../../src/sweep/run";
import { parallelCoordinatesSvg, trialsCsv, type SweepState } from "../../src/sweep/record";
import type { SweepConfig } from "../../src/config/types";
import { Rng } from "../../src/util/rng";

const units: Dimension = { path: "head.layers.0.units", kind: "values", values: [64, 128, 256] };
const dropout: Dimension = { path: "head.dropout", kind: "range", min: 0, max: 0.5, log: false, int: false };
const lr: Dimension = { path: "train.head.learning_rate", kind: "range", min: 1e-4, max: 1e-1, log: true, int: false };
const epochs: Dimension = { path: "train.head.epochs", kind: "range", min: 2, max: 9, log: false, int: true };

test("a grid enumerates every combination once, the last dimension fastest", () => {
  const opt: Dimension = { path: "train.head.optimizer", kind: "values", values: ["adam", "sgd"] };
  assert.equal(gridSize([units, opt]), 6);
  const points = Array.from({ length: 6 }, (_, i) => gridPoint([units, opt], i));
  assert.deepEqual(points[0], { "head.layers.0.units": 64, "train.head.optimizer": "adam" });
  assert.deepEqual(points[1], { "head.layers.0.units": 64, "train.head.optimizer": "sgd" });
  assert.equal(new Set(points.map((p) => JSON.stringify(p))).size, 6);
  assert.equal(gridSize([units, dropout]), Infinity);
});

test("random points stay inside their ranges, on log and integer scales", () => {
  const rng = new Rng(1);
  const seen = { low: 0, high: 0 };
  for (let i = 0; i < 2000; i++) {
    const p = randomPoint([units, dropout, lr, epochs], rng);
    assert.ok([64, 128, 256].includes(p["head.layers.0.units"] as number));
    const d = p["head.dropout"] as number, r = p["train.head.learning_rate"] as number, e = p["train.head.epochs"] as number;
    assert.ok(d >= 0 && d <= 0.5);
    assert.ok(r >= 1e-4 && r <= 1e-1);
    assert.ok(Number.isInteger(e) && e >= 2 && e <= 9);
    if (r < 1e-3) seen.low++;
    else if (r > 1e-2) seen.high++;
  }
  // log-uniform: each decade gets about a third of the draws
  assert.ok(Math.abs(seen.low / 2000 - 1 / 3) < 0.05, `low decade ${seen.low}`);
  assert.ok(Math.abs(seen.high / 2000 - 1 / 3) < 0.05, `high decade ${seen.high}`);
});

test("assignments are values written as --set arguments", () => {
  assert.deepEqual(toOverrides({ "head.dropout": 0.25, "train.head.optimizer": "sgd", "head.layers": [{ units: 8 }] }), [
    "head.dropout=0.25", "train.head.optimizer=sgd", "head.layers=[ { units: 8 } ]",
  ]);
});

const SWEEP: SweepConfig = {
  method: "random", max_trials: 10, parallel: 1, metric: "val_accuracy", goal: "auto", seed: 3, startup_trials: 3,
  asha: { enabled: false, min_epochs: 3, reduction_factor: 3 }, parameters: {},
};

test("random and grid trials depend only on the seed and the trial number, so resumed and distributed sweeps match serial ones", () => {
  const dims = [units, dropout];
  const a = Array.from({ length: 5 }, (_, i) => assignmentFor(SWEEP, dims, i + 1, [], true));
  const b = [5, 3, 1, 4, 2].map((i) => [i, assignmentFor(SWEEP, dims, i, [], true)] as const).sort((x, y) => x[0] - y[0]).map((x) => x[1]);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a[0], a[1]);
  assert.notDeepEqual(assignmentFor({ ...SWEEP, seed: 4 }, dims, 1, [], true), a[0]);
  const grid = { ...SWEEP, method: "grid" as const, max_trials: 2 };
  const sampled = [1, 2].map((i) => assignmentFor(grid, [units], i, [], true));
  assert.notDeepEqual(sampled[0], sampled[1], "a capped grid samples distinct points");
});

/** A smooth 2-d objective with its minimum at dropout 0.1, learning rate 3e-3. */
const objective = (a: Record<string, unknown>): number => {
  const d = a["head.dropout"] as number;
  const r = Math.log10(a["train.head.learning_rate"] as number);
  return (d - 0.1) ** 2 * 40 + (r - Math.log10(3e-3)) ** 2;
};

function bestAfter(n: number, seed: number, tpe: boolean): number {
  const history: Observation[] = [];
  for (let i = 0; i < n; i++) {
    const rng = new Rng(seed * 1000 + i);
    const a = tpe ? suggestTpe([dropout, lr], history, rng, { startupTrials: 8 }) : randomPoint([dropout, lr], rng);
    history.push({ assignment: a, loss: objective(a) });
  }
  return Math.min(...history.map((h) => h.loss));
}

test("TPE finds better points than random search on the same budget", () => {
  const seeds = Array.from({ length: 12 }, (_, i) => i + 1);
  const tpe = seeds.map((s) => bestAfter(40, s, true));
  const rnd = seeds.map((s) => bestAfter(40, s, false));
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  assert.ok(median(tpe) < median(rnd) * 0.6, `median best loss: tpe ${median(tpe).toFixed(4)}, random ${median(rnd).toFixed(4)}`);
});

test("TPE models categories from counts: the value of the good trials wins", () => {
  const history: Observation[] = [];
  for (let i = 0; i < 30; i++) history.push({ assignment: { [units.path]: [64, 128, 256][i % 3] }, loss: i % 3 === 1 ? 0 : 1 });
  const picks = Array.from({ length: 20 }, (_, i) => suggestTpe([units], history, new Rng(i), { startupTrials: 5 })[units.path]);
  assert.ok(picks.filter((p) => p === 128).length >= 16, `picked ${picks.join(",")}`);
});

test("ASHA rungs sit at min_epochs·η^k, and only the top 1/η continues", () => {
  const rule = { minEpochs: 2, reductionFactor: 3, maximize: true };
  assert.deepEqual([1, 2, 3, 6, 7, 18].map((e) => rungAt(rule, e)), [undefined, 2, undefined, 6, undefined, 18]);
  assert.equal(promotable(rule, 0.5, [0.5]), true, "the first trial at a rung continues");
  assert.equal(promotable(rule, 0.4, [0.5, 0.4]), false, "with fewer than η values only the best continues");
  assert.equal(promotable(rule, 0.8, [0.9, 0.8, 0.1, 0.2, 0.3, 0.4]), true, "second of six with η=3 keeps two");
  assert.equal(promotable(rule, 0.4, [0.9, 0.8, 0.1, 0.2, 0.3, 0.4]), false);
  assert.equal(promotable({ ...rule, maximize: false }, 0.1, [0.9, 0.8, 0.1]), true, "for losses lower is better");
});

test("rung values recorded in memory are restored on resume and mirrored to the state", async () => {
  const recorded: string[] = [];
  const rungs = new MemoryRungs({ minEpochs: 1, reductionFactor: 2, maximize: true }, (t, r, v) => void recorded.push(`${t}@${r}=${v}`));
  rungs.restore(1, 3, 0.9);
  assert.equal(await rungs.report(2, 3, 0.5), false);
  assert.equal(await rungs.report(3, 3, 0.95), true);
  assert.deepEqual(recorded, ["2@3=0.5", "3@3=0.95"]);
});

test("the comparison table and plot hold every trial", () => {
  const state: SweepState = {
    version: 1, sweep_id: "s", file: "f", overrides: [], fingerprint: "x", method: "random", metric: "val_accuracy", maximize: true,
    planned: 3, status: "completed", resumes: 0,
    trials: [
      { index: 1, assignment: { "head.dropout": 0.1, "train.head.optimizer": "adam" }, status: "completed", value: 0.8, metrics: { test_accuracy: 0.75 }, epochs: 5, seconds: 2, rungs: {}, run_id: "r1" },
      { index: 2, assignment: { "head.dropout": 0.3, "train.head.optimizer": "sgd, fast" }, status: "pruned", value: 0.5, metrics: {}, epochs: 3, seconds: 1, rungs: {}, run_id: "r2" },
      { index: 3, assignment: { "head.dropout": 0.2, "train.head.optimizer": "adam" }, status: "failed", value: null, metrics: {}, error: "boom", rungs: {} },
    ],
  };
  const csv = trialsCsv(state).trim().split("\n");
  assert.equal(csv[0], "trial,status,head.dropout,train.head.optimizer,val_accuracy,test_accuracy,epochs,seconds,run_id");
  assert.equal(csv[1], "1,completed,0.1,adam,0.8,0.75,5,2,r1");
  assert.equal(csv[2], '2,pruned,0.3,"sgd, fast",0.5,,3,1,r2');
  assert.equal(csv.length, 4);
  const svg = parallelCoordinatesSvg(state);
  assert.equal((svg.match(/<polyline/g) ?? []).length, 2, "one line per trial with a value");
  assert.match(svg, /stroke-dasharray/, "the pruned trial is dashed");
});
