import type { SourceLocation } from "../errors";

/**
 * The resolved experiment config: what a pipeline YAML becomes after defaults are applied and
 * validation passes. `schemas/pipeline.schema.json` describes the same shape for editors and for
 * ajv; a test keeps the two in step.
 */

export type Preprocessing = "auto" | "tf" | "caffe" | "torch" | "none";
export type ColorMode = "rgb" | "grayscale";
export type Interpolation = "bilinear" | "nearest" | "bicubic" | "lanczos3";
export type BadImagePolicy = "skip" | "fail";
export type Activation = "relu" | "elu" | "selu" | "gelu" | "swish" | "tanh" | "sigmoid" | "linear";
export type OptimizerName = "adam" | "sgd" | "rmsprop";
export type BackendChoice = "auto" | "native" | "native-gpu" | "wasm" | "cpu";

export interface SplitConfig {
  train: number;
  val: number;
  test: number;
  /** Keep class proportions equal across splits. */
  stratify: boolean;
}

export interface DataConfig {
  /** Folder of class subfolders, or of train/val/test folders that each hold class subfolders. */
  dir: string;
  /** Ratios used when `dir` is not already split. */
  split: SplitConfig;
  color_mode: ColorMode;
  /** Resampling kernel used to bring images to the base's input size. */
  interpolation: Interpolation;
  preprocessing: Preprocessing;
  /** Allow `preprocessing` to differ from the base architecture's own mode. */
  preprocessing_override: boolean;
  on_bad_image: BadImagePolicy;
  /** Images with more pixels than this are refused before decoding. */
  max_pixels: number;
  /** Class names to leave out. */
  exclude_classes: string[];
  /**
   * A dataset tlrun can build from an installed npm package (`emoji-google`, `emoji-twitter`).
   * When set and `dir` does not exist yet, prepare builds the dataset into `dir` first.
   */
  builtin: "" | "emoji-google" | "emoji-twitter";
}

export interface BaseConfig {
  /** `mobilenet_v2` (embedded) or a path to a tfjs LayersModel folder or model.json. */
  model: string;
  /** Weights source: "" for the model's own, "imagenet" for Keras' published weights. */
  weights: string;
  /** Layer whose output is the feature map; empty means the model's default. */
  cut: string;
  /** [height, width] fed to the base. */
  input_size: [number, number];
}

/**
 * A layer of the base: its name, its index, a Keras block name (the block's first layer), or a
 * fraction of the depth strictly between 0 and 1.
 */
export type LayerRef = string | number;

export interface FreezeConfig {
  /** First trainable layer in fine-tuning. */
  at: LayerRef;
  /** Unfreeze block by block from the top down to `at`, spread evenly over the fine-tune epochs. */
  gradual: boolean;
  /** `frozen` keeps BatchNorm in inference mode while fine-tuning (keras issue 9214). */
  batchnorm: "frozen" | "train";
}

export interface DenseLayerConfig {
  units: number;
  activation: Activation;
  dropout: number;
}

export interface HeadConfig {
  pooling: "avg" | "max";
  layers: DenseLayerConfig[];
  /** Dropout before the output layer. */
  dropout: number;
  output: "softmax" | "sigmoid";
  /** L2 weight decay on the dense kernels. */
  l2: number;
}

export interface AugmentConfig {
  horizontal_flip: boolean;
  vertical_flip: boolean;
  /** Maximum rotation in degrees, either way. */
  rotation: number;
  /** Maximum zoom fraction, in or out. */
  zoom: number;
  /** Maximum shift as a fraction of width/height. */
  shift: number;
  /** Maximum brightness change as a fraction. */
  brightness: number;
  /** Maximum contrast change as a fraction. */
  contrast: number;
  /** How many augmented views of each training image the extract stage caches for the head phase. */
  feature_copies: number;
  /** Fixed augmented views for the fine-tune phase; 0 draws fresh augmentation every epoch. */
  fine_tune_views: number;
}

export interface ScheduleConfig {
  type: "constant" | "step" | "cosine";
  warmup_epochs: number;
  /** For `step`: multiply the rate by `gamma` every `step_epochs`. */
  step_epochs: number;
  gamma: number;
  /** For `cosine`: the final rate as a fraction of the initial one. */
  min_factor: number;
}

export interface EarlyStoppingConfig {
  enabled: boolean;
  monitor: "val_loss" | "val_accuracy";
  patience: number;
  min_delta: number;
  restore_best: boolean;
}

export interface PhaseConfig {
  epochs: number;
  optimizer: OptimizerName;
  learning_rate: number;
  batch_size: number;
  schedule: ScheduleConfig;
  early_stopping: EarlyStoppingConfig;
}

/** Base layers from `from` up to the next entry's `from` learn at `factor` times the rate. */
export interface LrMultiplier {
  from: LayerRef;
  factor: number;
}

export interface FineTunePhaseConfig extends PhaseConfig {
  /** Geometric discriminative rates: the top base block learns at lr_decay x the head's rate, the next one down at lr_decay^2, ... 1 is off. */
  lr_decay: number;
  /** Explicit discriminative rates by layer range; exclusive with lr_decay. */
  lr_multipliers: LrMultiplier[];
}

export interface TrainConfig {
  head: PhaseConfig;
  /** Absent when the pipeline only trains the head. */
  fine_tune: FineTunePhaseConfig | null;
}

export interface EvaluateConfig {
  split: "test" | "val";
}

export interface RuntimeConfig {
  backend: BackendChoice;
  /** Folder for run records and the stage cache, relative to the config file. */
  runs_dir: string;
}

/** MLflow run metadata; the server itself comes from MLFLOW_TRACKING_URI. Env overrides these. */
export interface TrackingConfig {
  /** Experiment name; empty means the pipeline's name. */
  experiment: string;
  /** Run name; empty means the local run id. */
  run_name: string;
  tags: Record<string, string>;
}

export type SweepMethod = "grid" | "random" | "tpe";
export type SweepMetric = "val_accuracy" | "val_loss" | "test_accuracy" | "test_macro_f1" | "test_macro_auc" | "test_log_loss" | "head_test_accuracy";

/** One searched config path: `values` (grid axis), `choice` (categorical) or a `min`/`max` range. */
export interface SweepParameter {
  values?: unknown[];
  choice?: unknown[];
  min?: number;
  max?: number;
  log?: boolean;
  int?: boolean;
}

/** Asynchronous successive halving: prune trials that lag at epoch rungs. */
export interface AshaConfig {
  enabled: boolean;
  min_epochs: number;
  reduction_factor: number;
}

/** A hyperparameter search over the pipeline, run by `tlrun sweep`; not part of any stage key. */
export interface SweepConfig {
  method: SweepMethod;
  /** 0: every grid point (grid only). */
  max_trials: number;
  parallel: number;
  metric: SweepMetric;
  goal: "auto" | "maximize" | "minimize";
  seed: number;
  startup_trials: number;
  asha: AshaConfig;
  /** Config paths (as in `--set`) mapped to what to try. */
  parameters: Record<string, SweepParameter>;
}

export interface PipelineConfig {
  name: string;
  seed: number;
  data: DataConfig;
  base: BaseConfig;
  freeze: FreezeConfig;
  head: HeadConfig;
  augment: AugmentConfig;
  train: TrainConfig;
  evaluate: EvaluateConfig;
  runtime: RuntimeConfig;
  tracking: TrackingConfig;
  sweep: SweepConfig | null;
}

/** A config plus where it came from, so later checks can point at YAML positions. */
export interface LoadedConfig {
  config: PipelineConfig;
  /** Absolute path of the YAML file. */
  file: string;
  /** Folder that relative paths in the config are resolved against. */
  baseDir: string;
  /** Maps a JSON pointer-ish path (e.g. "head.layers.0.units") to a 1-based line and column. */
  locate: (path: string) => SourceLocation | undefined;
}
