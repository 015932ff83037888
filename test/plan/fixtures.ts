import type { PipelineConfig } from "../../src/config/types";

/** A complete config literal, so DAG tests need neither YAML nor the schema. */
export function defaultConfig(): PipelineConfig {
  const phase = {
    epochs: 10, optimizer: "adam" as const, learning_rate: 1e-3, batch_size: 32,
    schedule: { type: "constant" as const, warmup_epochs: 0, step_epochs: 10, gamma: 0.1, min_factor: 0 },
    early_stopping: { enabled: false, monitor: "val_loss" as const, patience: 3, min_delta: 0, restore_best: true },
  };
  return {
    name: "fixture",
    seed: 42,
    data: {
      dir: "data", split: { train: 0.7, val: 0.15, test: 0.15, stratify: true, group_pattern: "", group_by: "" }, color_mode: "rgb", interpolation: "bilinear",
      preprocessing: "auto", preprocessing_override: false, on_bad_image: "skip", labels: "", columns: { path: "", path_template: "", label: "", split: "" }, on_missing: "error", max_pixels: 50_000_000, exclude_classes: [], builtin: "",
      sampling: "none", audit: {
        enabled: true, leakage: "warn", duplicates: "warn",
        thresholds: { phash_max_distance: 10, phash_confirm_distance: 22, confirm_min_cosine: 0.8, colour_max_distance: 20, aligned_max_error: 6, feature_min_cosine: 1, label_folds: 5, neighbours: 20, outlier_min_score: 2 },
      },
    },
    base: { model: "mobilenet_v2", weights: "", cut: "", input_size: [224, 224] },
    freeze: { at: "block_13_expand", gradual: false, batchnorm: "frozen" },
    strategy: "explicit",
    head: { pooling: "avg", layers: [], dropout: 0.2, output: "softmax", l2: 0, depths: null },
    augment: { horizontal_flip: false, vertical_flip: false, rotation: 0, zoom: 0, shift: 0, brightness: 0, contrast: 0, feature_copies: 2, fine_tune_views: 0 },
    train: { head: phase, fine_tune: { ...phase, epochs: 5, learning_rate: 1e-5, lr_decay: 1, lr_multipliers: [] }, class_weight: null },
    evaluate: { split: "test", positive_class: "", negative_class: "", threshold: 0.5, bootstrap: 1000, recall_floor: 0.5, explain: { n: 8, layer: "" } },
    runtime: { backend: "auto", runs_dir: "runs", scratch_dir: "" },
    tracking: { experiment: "", run_name: "", tags: {} },
    sweep: null,
  };
}
