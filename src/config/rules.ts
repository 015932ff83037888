import { didYouMean, type Problem, type SourceLocation } from "../errors";
import type { LoadedConfig, PhaseConfig, PipelineConfig } from "./types";
import type { Where } from "./load-yaml";

/** What a rule found: the config path to point at and a plain message. */
export interface Finding {
  path: string;
  message: string;
  hint?: string;
}

/** A named cross-field check run after the schema passes (pass 2). */
export interface Rule {
  name: string;
  check(config: PipelineConfig): Finding[];
}

const phases = (c: PipelineConfig): Array<[string, PhaseConfig]> =>
  c.train.fine_tune ? [["train.head", c.train.head], ["train.fine_tune", c.train.fine_tune]] : [["train.head", c.train.head]];

export const RULES: readonly Rule[] = [
  {
    name: "split-sums-to-one",
    check: ({ data: { split: s } }) => {
      const sum = s.train + s.val + s.test;
      if (Math.abs(sum - 1) <= 1e-6) return [];
      const test = +(1 - s.train - s.val).toFixed(6);
      const hint = test >= 0 ? `e.g. test: ${test}` : "e.g. train: 0.7, val: 0.15, test: 0.15";
      return [{ path: "data.split", message: `data.split ratios must sum to 1, found ${s.train} + ${s.val} + ${s.test} = ${+sum.toFixed(6)}`, hint }];
    },
  },
  {
    name: "fine-tune-needs-freeze-point",
    check: (c) =>
      c.train.fine_tune && c.freeze.at === ""
        ? [{ path: "train.fine_tune", message: "train.fine_tune is set but freeze.at is not: fine-tuning needs to know which base layers to unfreeze", hint: "write freeze.at: block_13_expand (a layer name of the base) or a layer index, or remove train.fine_tune" }]
        : [],
  },
  {
    name: "warmup-shorter-than-phase",
    check: (c) =>
      phases(c)
        .filter(([, p]) => p.schedule.warmup_epochs > 0 && p.schedule.warmup_epochs >= p.epochs)
        .map(([at, p]) => ({ path: `${at}.schedule.warmup_epochs`, message: `${at}.schedule.warmup_epochs (${p.schedule.warmup_epochs}) must be fewer than ${at}.epochs (${p.epochs})`, hint: `e.g. warmup_epochs: ${Math.max(0, Math.floor(p.epochs / 5))}` })),
  },
  {
    name: "early-stopping-needs-validation",
    check: (c) =>
      c.data.split.val > 0
        ? []
        : phases(c)
            .filter(([, p]) => p.early_stopping.enabled)
            .map(([at, p]) => ({ path: `${at}.early_stopping.enabled`, message: `${at}.early_stopping monitors ${p.early_stopping.monitor}, but data.split.val is 0 so there is no validation split`, hint: "set data.split.val above 0 (e.g. 0.15), or early_stopping.enabled: false" })),
  },
  {
    name: "evaluate-split-not-empty",
    check: (c) =>
      c.data.split[c.evaluate.split] > 0
        ? []
        : [{ path: "evaluate.split", message: `evaluate.split is ${c.evaluate.split}, but data.split.${c.evaluate.split} is 0`, hint: `give data.split.${c.evaluate.split} a share above 0, or evaluate the other split` }],
  },
];

/** Pass 2: runs every rule on a schema-valid config and locates what they find. */
export function checkRules(config: PipelineConfig, where: Where): Problem[] {
  return RULES.flatMap((r) => r.check(config)).map((f) => ({ location: where(f.path), message: f.message, hint: f.hint }));
}

/** Checks the config against the class folders found in data.dir (before exclude_classes). */
export function checkAgainstDataset(loaded: LoadedConfig, classNames: string[]): Problem[] {
  const { data, head } = loaded.config;
  const problems: Problem[] = [];
  data.exclude_classes.forEach((name, i) => {
    if (classNames.includes(name)) return;
    const hint = didYouMean(name, classNames) || `classes found: ${classNames.join(", ") || "none"}`;
    problems.push({ location: at(loaded, `data.exclude_classes.${i}`), message: `data.exclude_classes lists '${name}', which is not a class folder in ${data.dir}`, hint });
  });
  const kept = classNames.filter((c) => !data.exclude_classes.includes(c));
  if (kept.length < 2) {
    problems.push({ location: at(loaded, "data.dir"), message: `${data.dir} has ${kept.length} class(es) after exclude_classes (${kept.join(", ") || "none"}); a classifier needs at least 2`, hint: "put each class's images in its own subfolder of data.dir" });
  } else if (head.output === "sigmoid" && kept.length !== 2) {
    problems.push({ location: at(loaded, "head.output"), message: `head.output sigmoid needs exactly 2 classes, found ${kept.length}`, hint: "write output: softmax" });
  }
  return problems;
}

/** Checks freeze.at names a layer of the base (or is an index into its layers). */
export function checkFreezePoint(loaded: LoadedConfig, layerNames: string[]): Problem[] {
  const v = loaded.config.freeze.at;
  return v === "" ? [] : checkLayerRef(loaded, "freeze.at", v, layerNames);
}

/**
 * A tfjs GraphModel base (a TF-Hub-style feature vector) has no layers: it extracts features for
 * the head and nothing more, so fine-tuning, a cut and separate weights do not apply.
 */
export function checkGraphBase(loaded: LoadedConfig): Problem[] {
  const { base, train } = loaded.config;
  const problems: Problem[] = [];
  if (train.fine_tune)
    problems.push({ location: at(loaded, "train.fine_tune"), message: `train.fine_tune is set, but base.model '${base.model}' is a tfjs GraphModel: it has no layers to unfreeze, so it can only extract features for the head`, hint: "remove train.fine_tune (the head still trains on the graph model's features), or fine-tune a LayersModel or an architecture such as vgg16" });
  if (base.cut)
    problems.push({ location: at(loaded, "base.cut"), message: `base.cut '${base.cut}' names a layer, but base.model '${base.model}' is a tfjs GraphModel without layers; its output is the feature map or vector`, hint: "remove base.cut" });
  if (base.weights)
    problems.push({ location: at(loaded, "base.weights"), message: `base.weights '${base.weights}' is set, but a tfjs GraphModel carries its own weights`, hint: "remove base.weights" });
  return problems;
}

/** Checks base.cut, when set, names a layer of the base. */
export function checkCut(loaded: LoadedConfig, layerNames: string[]): Problem[] {
  const v = loaded.config.base.cut;
  return v === "" ? [] : checkLayerRef(loaded, "base.cut", v, layerNames);
}

function checkLayerRef(loaded: LoadedConfig, path: string, v: string | number, names: string[]): Problem[] {
  const n = names.length;
  const sample = names[Math.floor(n * 0.8)] ?? "block_13_expand";
  if (typeof v === "number") {
    if (Number.isInteger(v) && v >= 0 && v < n) return [];
    return [{ location: at(loaded, path), message: `${path} ${v} is out of range: the base model has ${n} layers`, hint: `write an index from 0 to ${n - 1}, or a layer name such as '${sample}'` }];
  }
  if (names.includes(v)) return [];
  const hint = didYouMean(v, names) || `write a layer name of the base, such as '${sample}'`;
  return [{ location: at(loaded, path), message: `${path} '${v}' is not a layer of the base model (${n} layers)`, hint }];
}

/** Location of a path; `locate` results may carry their own file (e.g. a `--set` argument). */
function at(loaded: LoadedConfig, path: string): SourceLocation | undefined {
  const p = loaded.locate(path) as (Partial<SourceLocation> & { line: number; col: number }) | undefined;
  return p && { file: p.file ?? loaded.file, line: p.line, col: p.col };
}
