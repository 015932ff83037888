import { didYouMean, type Problem } from "../errors";
import { layerRefNames, resolveLayerRef } from "../models/freeze-point";
import type { LayerRef, LoadedConfig, PhaseConfig, PipelineConfig, Preprocessing } from "./types";
import type { Where } from "./load-yaml";
import { checkClassOptions, locateIn } from "./class-rules";
import { checkRunName } from "./run-name";
import { checkGroupSource } from "./group-rules";

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

/** Every config field that points at a base layer, with its path. */
function layerRefs(c: PipelineConfig): Array<[string, LayerRef]> {
  const at: Array<[string, LayerRef]> = c.freeze.at === "" ? [] : [["freeze.at", c.freeze.at]];
  return at.concat((c.train.fine_tune?.lr_multipliers ?? []).map((m, i): [string, LayerRef] => [`train.fine_tune.lr_multipliers.${i}.from`, m.from]));
}

/** Whether `strategy` asks for auto (the string, or a block whose mode is not explicit). */
function autoStrategy(c: PipelineConfig): boolean {
  return typeof c.strategy === "string" ? c.strategy === "auto" : c.strategy.mode !== "explicit";
}

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
      // under strategy: auto the probe's table sets freeze.at
      c.train.fine_tune && c.freeze.at === "" && !autoStrategy(c)
        ? [{ path: "train.fine_tune", message: "train.fine_tune is set but freeze.at is not: fine-tuning needs to know which base layers to unfreeze", hint: "write freeze.at: block_13 (a block, layer name, index or fraction of the depth such as 0.75), or remove train.fine_tune" }]
        : [],
  },
  {
    name: "layer-number-is-index-or-fraction",
    check: (c) =>
      layerRefs(c)
        .filter(([, v]) => typeof v === "number" && !Number.isInteger(v) && !(v > 0 && v < 1))
        .map(([path, v]) => ({ path, message: `${path} ${v} is neither a layer index (a whole number) nor a fraction of the depth (strictly between 0 and 1)`, hint: `e.g. ${path.split(".").pop()}: ${Math.round(Number(v))} (an index) or 0.75 (the top quarter trains)` })),
  },
  {
    name: "gradual-needs-fine-tune",
    check: (c) =>
      c.freeze.gradual && !c.train.fine_tune
        ? [{ path: "freeze.gradual", message: "freeze.gradual is true, but there is no train.fine_tune phase to unfreeze in", hint: "add train.fine_tune (e.g. fine_tune: {epochs: 8}) or remove freeze.gradual" }]
        : [],
  },
  {
    name: "one-form-of-discriminative-rates",
    check: ({ train: { fine_tune: ft } }) =>
      ft && ft.lr_decay < 1 && ft.lr_multipliers.length
        ? [{ path: "train.fine_tune.lr_decay", message: `train.fine_tune sets both lr_decay (${ft.lr_decay}) and lr_multipliers; they are two ways to say the same thing`, hint: "keep one: lr_decay for a geometric rate per block, or lr_multipliers for explicit ranges" }]
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
    name: "positive-is-not-negative",
    check: ({ evaluate: e }) =>
      e.positive_class && e.positive_class === e.negative_class
        ? [{ path: "evaluate.negative_class", message: `evaluate.positive_class and evaluate.negative_class are both '${e.positive_class}'`, hint: "name the other class in one of them, or set only one: the other class is taken as its opposite" }]
        : [],
  },
  {
    name: "threshold-needs-positive-class",
    check: ({ evaluate: e }) =>
      e.threshold !== 0.5 && !e.positive_class && !e.negative_class
        ? [{ path: "evaluate.threshold", message: `evaluate.threshold is set (${typeof e.threshold === "object" ? `target_sensitivity ${e.threshold.target_sensitivity}` : e.threshold}), but neither evaluate.positive_class nor negative_class names the class whose probability it thresholds`, hint: "add evaluate.positive_class: <the class a positive result means>, or remove threshold" }]
        : [],
  },
  {
    name: "evaluate-split-not-empty",
    check: (c) =>
      c.data.split[c.evaluate.split] > 0
        ? []
        : [{ path: "evaluate.split", message: `evaluate.split is ${c.evaluate.split}, but data.split.${c.evaluate.split} is 0`, hint: `give data.split.${c.evaluate.split} a share above 0, or evaluate the other split` }],
  },
  { name: "run-name-placeholders", check: checkRunName },
  { name: "one-group-source", check: checkGroupSource },
];

/** Pass 2: runs every rule on a schema-valid config and locates what they find. */
export function checkRules(config: PipelineConfig, where: Where): Problem[] {
  return RULES.flatMap((r) => r.check(config)).map((f) => ({ location: where(f.path), message: f.message, hint: f.hint }));
}

/** What is known of the data folder beyond its class folder names (data/peek.ts). */
export interface FolderContents {
  /** Class folders that hold at least one image; the others are left out, as prepare leaves them out. */
  withImages: readonly string[];
  /** Images lying directly in data.dir, outside any class folder. */
  looseImages?: boolean;
}

/**
 * Checks the config against the class folders found in data.dir (before exclude_classes): the
 * names exclude_classes gives, at least two classes holding images, and the options naming classes.
 */
export function checkAgainstDataset(loaded: LoadedConfig, classNames: string[], contents?: FolderContents): Problem[] {
  const { data, head } = loaded.config;
  const problems: Problem[] = [];
  data.exclude_classes.forEach((name, i) => {
    if (classNames.includes(name)) return;
    const hint = didYouMean(name, classNames) || `classes found: ${classNames.join(", ") || "none"}`;
    problems.push({ location: locateIn(loaded, `data.exclude_classes.${i}`), message: `data.exclude_classes lists '${name}', which is not a class ${data.labels ? `in ${data.labels}` : `folder in ${data.dir}`}`, hint });
  });
  const empty = contents ? classNames.filter((c) => !contents.withImages.includes(c) && !data.exclude_classes.includes(c)) : [];
  const kept = classNames.filter((c) => !data.exclude_classes.includes(c) && !empty.includes(c));
  if (kept.length < 2) {
    problems.push(tooFewClasses(loaded, kept, empty, contents));
  } else {
    if (head.output === "sigmoid" && kept.length !== 2)
      problems.push({ location: locateIn(loaded, "head.output"), message: `head.output sigmoid needs exactly 2 classes, found ${kept.length}`, hint: "write output: softmax" });
    problems.push(...checkClassOptions(loaded, [...kept].sort()));
  }
  return problems;
}

/** Why data.dir cannot train a classifier: no images at all, or one class; with the fix. */
function tooFewClasses(loaded: LoadedConfig, kept: string[], empty: string[], contents: FolderContents | undefined): Problem {
  const { dir, exclude_classes: excluded } = loaded.config.data;
  const location = locateIn(loaded, "data.dir");
  const also = [
    ...(empty.length ? [`${list(empty)} ${empty.length === 1 ? "holds" : "hold"} no images`] : []),
    ...(excluded.length ? [`exclude_classes leaves out ${list(excluded)}`] : []),
  ];
  const why = also.length ? ` (${also.join("; ")})` : "";
  if (!kept.length) {
    const hint = contents?.looseImages
      ? `the images lie directly in ${dir}; move each class's images into its own subfolder, e.g. ${dir}/cat/*.png and ${dir}/dog/*.png`
      : `put each class's images in its own subfolder, e.g. ${dir}/cat/*.png and ${dir}/dog/*.png (or train/, val/, test/ folders of class subfolders)`;
    return { location, message: `data.dir '${dir}' holds no ${contents ? "images in " : ""}class subfolders${why}`, hint };
  }
  return {
    location,
    message: `data.dir '${dir}' has one class${contents ? " with images" : ""}, '${kept[0]}'${why}; a classifier needs at least 2`,
    hint: `add a subfolder of images for each other class beside ${kept[0]}/ (the folder name is the class)${excluded.length ? ", or remove names from data.exclude_classes" : ""}`,
  };
}

const list = (names: readonly string[]): string => names.map((n) => `${n}/`).join(", ");

/**
 * Checks that freeze.at and each lr_multipliers `from` point at a layer of the base (a name,
 * index, block or fraction), and that the multiplier ranges cover every layer from freeze.at up.
 */
export function checkFreezePoint(loaded: LoadedConfig, layerNames: string[]): Problem[] {
  const refs = layerRefs(loaded.config);
  const problems = refs.flatMap(([path, v]) => checkLayerRef(loaded, path, v, layerNames));
  if (problems.length || refs[0]?.[0] !== "freeze.at" || refs.length < 2) return problems;
  const [freeze, ...froms] = refs.map(([path, v]): [string, number] => [path, resolveLayerRef(layerNames, v)!]);
  const at = freeze![1];
  const lowest = froms.reduce((a, b) => (b[1] < a[1] ? b : a));
  if (lowest[1] > at)
    problems.push({ location: locateIn(loaded, lowest[0]), message: `${lowest[0]} starts at layer ${lowest[1]} (${layerNames[lowest[1]]}), above freeze.at (layer ${at}, ${layerNames[at]}): the layers between would have no learning-rate factor`, hint: `write from: ${JSON.stringify(loaded.config.freeze.at)} for the lowest range` });
  froms.forEach(([path, i], k) => {
    const same = froms.findIndex(([, j]) => j === i);
    if (same < k) problems.push({ location: locateIn(loaded, path), message: `${path} starts at layer ${i} (${layerNames[i]}), as ${froms[same]![0]} does`, hint: "give each range its own first layer, or merge the two entries" });
  });
  return problems;
}

/** What `checkArchitecture` needs to know about the base's architecture. */
export interface ArchitectureFacts {
  name: string;
  preprocessing: Exclude<Preprocessing, "auto">;
  minInput: number;
}

const MODE_MEANING: Record<Exclude<Preprocessing, "auto">, string> = {
  tf: "pixels scaled to [-1, 1]",
  caffe: "BGR with the ImageNet channel means subtracted",
  torch: "[0, 1] normalised by the ImageNet mean and std",
  none: "raw 0-255 values",
};

/**
 * Checks the config against what the base architecture was trained with: an explicit
 * `data.preprocessing` must be the architecture's own mode (unless `preprocessing_override`),
 * and `base.input_size` must reach the architecture's minimum.
 */
export function checkArchitecture(loaded: LoadedConfig, arch: ArchitectureFacts): Problem[] {
  const { data, base } = loaded.config;
  const problems: Problem[] = [];
  if (data.preprocessing !== "auto" && data.preprocessing !== arch.preprocessing && !data.preprocessing_override)
    problems.push({
      location: locateIn(loaded, "data.preprocessing"),
      message: `data.preprocessing is ${data.preprocessing}, but ${arch.name}'s weights expect ${arch.preprocessing} (${MODE_MEANING[arch.preprocessing]}); features would be computed on the wrong scale`,
      hint: `write preprocessing: auto (or ${arch.preprocessing}); if your weights really were trained with ${data.preprocessing}, add preprocessing_override: true`,
    });
  const [h, w] = base.input_size;
  if (Math.min(h, w) < arch.minInput)
    problems.push({
      location: locateIn(loaded, "base.input_size"),
      message: `base.input_size [${h}, ${w}] is below ${arch.name}'s minimum input of ${arch.minInput} x ${arch.minInput} pixels`,
      hint: `write input_size: [${Math.max(h, arch.minInput)}, ${Math.max(w, arch.minInput)}] or larger`,
    });
  return problems;
}

/**
 * A tfjs GraphModel base (a TF-Hub-style feature vector) has no layers: it extracts features for
 * the head and nothing more, so fine-tuning, a cut and separate weights do not apply.
 */
export function checkGraphBase(loaded: LoadedConfig): Problem[] {
  const { base, train } = loaded.config;
  const problems: Problem[] = [];
  if (train.fine_tune)
    problems.push({ location: locateIn(loaded, "train.fine_tune"), message: `train.fine_tune is set, but base.model '${base.model}' is a tfjs GraphModel: it has no layers to unfreeze, so it can only extract features for the head`, hint: "remove train.fine_tune (the head still trains on the graph model's features), or fine-tune a LayersModel or an architecture such as vgg16" });
  if (base.cut)
    problems.push({ location: locateIn(loaded, "base.cut"), message: `base.cut '${base.cut}' names a layer, but base.model '${base.model}' is a tfjs GraphModel without layers; its output is the feature map or vector`, hint: "remove base.cut" });
  if (base.weights)
    problems.push({ location: locateIn(loaded, "base.weights"), message: `base.weights '${base.weights}' is set, but a tfjs GraphModel carries its own weights`, hint: "remove base.weights" });
  if (loaded.config.head.depths)
    problems.push({ location: locateIn(loaded, "head.depths"), message: `head.depths reads layers below the cut, but base.model '${base.model}' is a tfjs GraphModel without layers`, hint: "remove head.depths" });
  return problems;
}

/** Checks base.cut, when set, names a layer of the base. */
export function checkCut(loaded: LoadedConfig, layerNames: string[]): Problem[] {
  const v = loaded.config.base.cut;
  return v === "" ? [] : checkLayerRef(loaded, "base.cut", v, layerNames);
}

/** Checks evaluate.explain.layer, when heat maps are on and it is set, names a layer of the cut base. */
export function checkExplainLayer(loaded: LoadedConfig, layerNames: string[]): Problem[] {
  const { n, layer } = loaded.config.evaluate.explain;
  return n > 0 && layer !== "" ? checkLayerRef(loaded, "evaluate.explain.layer", layer, layerNames) : [];
}

/** Paths that take a layer's name only; the others (`freeze.at`-like) also an index, block or fraction. */
const NAME_ONLY = new Set(["base.cut", "evaluate.explain.layer"]);

/** A layer reference: a name, or for `freeze.at`-like paths also an index, block or fraction. */
function checkLayerRef(loaded: LoadedConfig, path: string, v: LayerRef, names: string[]): Problem[] {
  const n = names.length;
  const sample = names[Math.floor(n * 0.8)] ?? "block_13_expand";
  const anyForm = !NAME_ONLY.has(path);
  if (typeof v === "number") {
    if (!Number.isInteger(v) || (v >= 0 && v < n)) return []; // fractions were checked in pass 2
    return [{ location: locateIn(loaded, path), message: `${path} ${v} is out of range: the base model has ${n} layers`, hint: `write an index from 0 to ${n - 1}, or a layer name such as '${sample}'` }];
  }
  if (anyForm ? resolveLayerRef(names, v) !== undefined : names.includes(v)) return [];
  const what = anyForm ? "a layer name, index, block or fraction of" : "a layer of";
  const hint = didYouMean(v, anyForm ? layerRefNames(names) : names) || `write a layer name of the base, such as '${sample}'`;
  return [{ location: locateIn(loaded, path), message: `${path} '${v}' is not ${what} the base model (${n} layers)`, hint }];
}

