import type { Estimate } from "../evaluation/types";
import type { ModelCard } from "./model-card";

const pct = (v: number | null): string => (v === null ? "n/a" : `${(v * 100).toFixed(1)}%`);
const withCi = (e: Estimate): string => (e.value === null ? "n/a" : `${pct(e.value)}${e.low !== null && e.high !== null ? ` (95% CI ${pct(e.low)}–${pct(e.high)})` : ""}`);

/** How to load the folder's model, per format, in the language people use it from. */
const LOADING: Record<NonNullable<ModelCard["export"]>["format"], (file: string) => string> = {
  tfjs: (f) => `const model = await tf.loadLayersModel("file://./${f}"); // @tensorflow/tfjs-node\nconst probs = model.predict(x); // x: [n, h, w, 3] float32, preprocessed as above`,
  onnx: (f) => `import onnxruntime as ort\ns = ort.InferenceSession("${f}")\nprobs = s.run(["probabilities"], {"input": x})[0]  # x: [n, h, w, 3] float32, preprocessed as above`,
  savedmodel: () => `import tensorflow as tf\nf = tf.saved_model.load(".").signatures["serving_default"]\nprobs = f(input=tf.constant(x))["probabilities"]  # x: [n, h, w, 3] float32, preprocessed as above`,
};

/** model-card.json for people: what the model takes, answers, and how good it was. */
export function cardReadme(card: ModelCard): string {
  const i = card.input;
  const p = i.preprocessing;
  const e = card.export;
  const lines = [
    `# ${card.name}: image classifier (run ${card.run_id})`,
    "",
    `Exported by tlrun ${card.tlrun_version}${e ? ` as **${e.format}** (\`${e.file}\`)` : ""}. Everything below is also in \`model-card.json\`.`,
    "",
    "## Classes, in output order",
    "",
    ...card.classes.map((c, k) => `${k}. ${c}`),
    "",
    "## Input",
    "",
    `- Shape: [n, ${i.height}, ${i.width}, 3], float32, NHWC (any batch size n)${e ? `, named \`${e.input_name}\`` : ""}.`,
    `- Colour: ${i.color_mode}${i.color_mode === "grayscale" ? " (luma repeated in all three channels)" : ""}.`,
    `- Image to pixels: ${i.resize}.`,
    `- Preprocessing (\`${p.mode}\`): ${p.formula}.`,
    `  As numbers: out[..., k] = (pixel[..., ${p.channel_order === "BGR" ? "2 - k" : "k"}] - mean[k]) / std[k] with mean = [${p.mean.map((v) => +v.toFixed(4)).join(", ")}], std = [${p.std.map((v) => +v.toFixed(4)).join(", ")}] on 0..255 RGB values.`,
    "",
    "## Output and decision",
    "",
    e?.output === "positive_probability"
      ? `- \`${e.output_name}\`: one sigmoid unit, the probability of **${card.classes[1]}**; ${card.classes[0]} is 1 − p.`
      : `- \`${e?.output_name ?? "probabilities"}\`: one probability per class, in the order above (they sum to 1).`,
    card.decision.kind === "threshold"
      ? `- Decision: **${card.decision.positive_class}** when its probability ≥ **${card.decision.threshold.toPrecision(4)}** (rule: ${card.decision.rule}, chosen on the validation split), else ${card.decision.negative_class}.`
      : "- Decision: the class with the highest probability.",
    "",
    ...metricLines(card),
    "## Provenance",
    "",
    `- Dataset manifest sha256: \`${card.dataset.manifest_sha256}\``,
    `- Base: ${card.weights.base_model}${card.weights.base_weights ? ` (weights ${card.weights.base_weights})` : ""}, cut at ${card.weights.base_cut}; base weights sha256: ${card.weights.base_weights_sha256 ? `\`${card.weights.base_weights_sha256}\`` : "not recorded by this run"}`,
    `- Trained weights (the run's model/ weight files) sha256: ${card.weights.model_weights_sha256 ? `\`${card.weights.model_weights_sha256}\`` : "n/a"}`,
    `- Trained with tlrun ${card.trained_with ?? "(version not recorded)"}; exported with tlrun ${card.tlrun_version} at ${card.created_at}.`,
    ...(e?.check ? [`- Checked at export: max |${e.format} − tfjs| = ${e.check.max_abs_diff.toExponential(2)} on random inputs at batch sizes ${e.check.batches.join(" and ")}.`] : []),
    "",
    "## Loading",
    "",
    "```",
    e ? LOADING[e.format](e.file) : "see the run folder",
    "```",
    "",
    `Or score images with tlrun, which applies all of the above: \`tlrun predict <this folder> <images>\`.`,
    "",
  ];
  return lines.join("\n");
}

function metricLines(card: ModelCard): string[] {
  const m = card.metrics;
  if (!m) return ["## Metrics", "", "The run wrote no report.json.", ""];
  const rows = Object.entries(m.per_class).map(([c, v]) => `| ${c} | ${pct(v.precision)} | ${pct(v.recall)} | ${pct(v.specificity)} | ${pct(v.f1)} | ${v.auc === null ? "n/a" : v.auc.toFixed(3)} | ${v.support} |`);
  const b = m.binary;
  return [
    `## Metrics on the ${m.split} split (${m.n} images)`,
    "",
    `- Accuracy ${withCi(m.accuracy)}; macro F1 ${withCi(m.macro_f1)}; macro ROC AUC ${m.macro_auc.value === null ? "n/a" : m.macro_auc.value.toFixed(3)}${m.macro_auc.low !== null ? ` (95% CI ${m.macro_auc.low.toFixed(3)}–${m.macro_auc.high!.toFixed(3)})` : ""}.`,
    ...(b ? [`- At the threshold ${b.threshold.toPrecision(4)}: sensitivity ${withCi(b.sensitivity)}, specificity ${withCi(b.specificity)}, PPV ${withCi(b.ppv)}, NPV ${withCi(b.npv)}.`] : []),
    m.bootstrap ? `- Intervals: ${m.bootstrap.resamples} bootstrap resamples (seed ${m.bootstrap.seed}).` : "- This run predates confidence intervals: point estimates only.",
    ...m.warnings.map((w) => `- Warning: ${w}`),
    "",
    "| class | precision | recall | specificity | F1 | AUC | support |",
    "|---|---|---|---|---|---|---|",
    ...rows,
    "",
  ];
}
