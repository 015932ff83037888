/**
 * Keeps schemas/pipeline.schema.json and src/config/types.ts in step. The literals below are typed
 * as the config types, so a change to types.ts stops this file compiling until they are updated;
 * a change to the schema's keys, defaults or enums makes the tests fail.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "../../src/config";
import type * as T from "../../src/config/types";
import schema from "../../schemas/pipeline.schema.json";

const SCHEDULE: T.ScheduleConfig = { type: "constant", warmup_epochs: 0, step_epochs: 10, gamma: 0.1, min_factor: 0 };
const EARLY: T.EarlyStoppingConfig = { enabled: false, monitor: "val_loss", patience: 3, min_delta: 0, restore_best: true };
const phase = (epochs: number, learning_rate: number): T.PhaseConfig => ({ epochs, optimizer: "adam", learning_rate, batch_size: 32, schedule: SCHEDULE, early_stopping: EARLY });

/** What `{name: x, data: {dir: d}}` must become. */
const DEFAULTS: T.PipelineConfig = {
  name: "x",
  seed: 42,
  data: { dir: "d", split: { train: 0.7, val: 0.15, test: 0.15, stratify: true }, color_mode: "rgb", interpolation: "bilinear", preprocessing: "auto", preprocessing_override: false, on_bad_image: "skip", max_pixels: 50_000_000, exclude_classes: [], builtin: "" },
  base: { model: "mobilenet_v2", weights: "", cut: "", input_size: [224, 224] },
  freeze: { at: "", gradual: false, batchnorm: "frozen" },
  head: { pooling: "avg", layers: [], dropout: 0.2, output: "softmax", l2: 0 },
  augment: { horizontal_flip: false, vertical_flip: false, rotation: 0, zoom: 0, shift: 0, brightness: 0, contrast: 0, feature_copies: 2, fine_tune_views: 0 },
  train: { head: phase(10, 1e-3), fine_tune: null },
  evaluate: { split: "test" },
  runtime: { backend: "auto", runs_dir: "runs" },
  tracking: { experiment: "", run_name: "", tags: {} },
  sweep: null,
};
const FINE_TUNE: T.FineTunePhaseConfig = { ...phase(5, 1e-5), lr_decay: 1, lr_multipliers: [] };
const LAYER: T.DenseLayerConfig = { units: 8, activation: "relu", dropout: 0 };

/** Every union in types.ts; `Record<Union, true>` fails to compile if a member is added or removed. */
const opts = <U extends string>(r: Record<U, true>) => Object.keys(r).sort();
const optimizers = opts<T.OptimizerName>({ adam: true, sgd: true, rmsprop: true });
const schedules = opts<T.ScheduleConfig["type"]>({ constant: true, step: true, cosine: true });
const monitors = opts<T.EarlyStoppingConfig["monitor"]>({ val_loss: true, val_accuracy: true });
const ENUMS: Record<string, string[]> = {
  "data.color_mode": opts<T.ColorMode>({ rgb: true, grayscale: true }),
  "data.interpolation": opts<T.Interpolation>({ bilinear: true, nearest: true, bicubic: true, lanczos3: true }),
  "data.preprocessing": opts<T.Preprocessing>({ auto: true, tf: true, caffe: true, torch: true, none: true }),
  "data.on_bad_image": opts<T.BadImagePolicy>({ skip: true, fail: true }),
  "data.builtin": opts<T.DataConfig["builtin"]>({ "": true, "emoji-google": true, "emoji-twitter": true }),
  "freeze.batchnorm": opts<T.FreezeConfig["batchnorm"]>({ frozen: true, train: true }),
  "head.pooling": opts<T.HeadConfig["pooling"]>({ avg: true, max: true }),
  "head.layers[].activation": opts<T.Activation>({ relu: true, elu: true, selu: true, gelu: true, swish: true, tanh: true, sigmoid: true, linear: true }),
  "head.output": opts<T.HeadConfig["output"]>({ softmax: true, sigmoid: true }),
  "train.head.optimizer": optimizers,
  "train.head.schedule.type": schedules,
  "train.head.early_stopping.monitor": monitors,
  "train.fine_tune.optimizer": optimizers,
  "train.fine_tune.schedule.type": schedules,
  "train.fine_tune.early_stopping.monitor": monitors,
  "evaluate.split": opts<T.EvaluateConfig["split"]>({ test: true, val: true }),
  "runtime.backend": opts<T.BackendChoice>({ auto: true, native: true, "native-gpu": true, wasm: true, cpu: true }),
  "sweep.method": opts<T.SweepMethod>({ grid: true, random: true, tpe: true }),
  "sweep.metric": opts<T.SweepMetric>({ val_accuracy: true, val_loss: true, test_accuracy: true, test_macro_f1: true, test_macro_auc: true, test_log_loss: true, head_test_accuracy: true }),
  "sweep.goal": opts<T.SweepConfig["goal"]>({ auto: true, maximize: true, minimize: true }),
};

type Node = { $ref?: string; type?: unknown; properties?: Record<string, Node>; items?: Node; anyOf?: Node[]; required?: string[]; enum?: string[]; additionalProperties?: unknown; description?: string; default?: unknown };

/** Every property schema with its dotted path (`[]` for list items), following $refs. */
function* walk(node: Node, path: string, parent?: Node): Generator<{ path: string; node: Node; parent?: Node }> {
  const n = node.$ref ? (schema as unknown as { definitions: Record<string, Node> }).definitions[node.$ref.split("/").pop()!]! : node;
  yield { path, node: { ...n, description: node.description ?? n.description, default: "default" in node ? node.default : n.default }, parent };
  for (const [k, child] of Object.entries(n.properties ?? {})) yield* walk(child, path ? `${path}.${k}` : k, n);
  if (n.items) yield* walk(n.items, `${path}[]`);
}

function withConfig(extra: string): T.LoadedConfig {
  const dir = mkdtempSync(join(tmpdir(), "tlrun-schema-"));
  try {
    writeFileSync(join(dir, "p.yaml"), `name: x\ndata: {dir: d}\n${extra}`);
    return loadConfig(join(dir, "p.yaml"));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test("schema defaults produce exactly the typed default config", () => {
  assert.deepEqual(withConfig("").config, DEFAULTS);
});

test("fine_tune and head layers get their own defaults", () => {
  const { config } = withConfig("freeze: {at: 3}\ntrain: {fine_tune: {}}\nhead: {layers: [{units: 8}]}\n");
  assert.deepEqual(config.train.fine_tune, FINE_TUNE);
  assert.deepEqual(config.head.layers, [LAYER]);
});

test("a sweep block gets its defaults, and its parameters keep dotted keys", () => {
  const { config } = withConfig("sweep: {max_trials: 4, parameters: {head.dropout: {min: 0, max: 0.5}}}\n");
  const sweep: T.SweepConfig = {
    method: "random", max_trials: 4, parallel: 1, metric: "val_accuracy", goal: "auto", seed: 0, startup_trials: 5,
    asha: { enabled: false, min_epochs: 3, reduction_factor: 3 },
    parameters: { "head.dropout": { min: 0, max: 0.5, log: false, int: false } },
  };
  assert.deepEqual(config.sweep, sweep);
});

test("schema enums match the unions in types.ts", () => {
  const found: Record<string, string[]> = {};
  for (const { path, node } of walk(schema as Node, "")) if (node.enum) found[path] = [...node.enum].sort();
  assert.deepEqual(found, ENUMS);
});

test("every property has a description, a default unless required, and no extra keys allowed", () => {
  for (const { path, node, parent } of walk(schema as Node, "")) {
    if (!path) continue;
    assert.ok(node.description, `${path} has no description`);
    const required = parent?.required?.includes(path.split(".").pop()!) ?? path.endsWith("[]");
    assert.ok(required || node.default !== undefined, `${path} has no default`);
    if (node.properties) assert.equal(node.additionalProperties, false, `${path} allows unknown keys`);
  }
  assert.equal((schema as Node).additionalProperties, false);
});
