import { parse } from "./args";
import { relative, resolve } from "node:path";
import { selectBackend } from "../backend/select";
import { didYouMean, EXIT, UsageError } from "../errors";
import { exportRun, FORMATS, type ExportFormat } from "../deploy/export";
import { findRun } from "../tracking/local-runs";

export const EXPORT_HELP = `tlrun export <run-id | run dir> --format tfjs|onnx|savedmodel --out DIR [--force] [--runs-dir DIR] [--json]
  the run's classifier in one format, with model-card.json and README.md (classes, preprocessing,
  input size, threshold, test metrics with CIs, dataset and weights hashes)
    --format F     tfjs (model.json + weights.bin), onnx (model.onnx), savedmodel (TensorFlow SavedModel)
    --out DIR      the folder to create; written in full beside it, then renamed into place
    --force        replace DIR when it exists and is not empty
    --runs-dir D   where run ids are looked up (default ./runs)`;

const OPTIONS = {
  format: { type: "string" }, out: { type: "string" }, force: { type: "boolean" }, "runs-dir": { type: "string" }, json: { type: "boolean" },
} as const;

/** `tlrun export`: one run's model in one format, checked against the tfjs model, with its card. */
export async function exportCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, OPTIONS, { min: 0, max: Infinity }, EXPORT_HELP);
  if (positionals.length !== 1) throw new UsageError(`give one run id or run folder\nusage: ${EXPORT_HELP}`);
  const format = values.format;
  if (!format) throw new UsageError(`missing --format (${FORMATS.join(", ")})\nusage: ${EXPORT_HELP}`);
  if (!(FORMATS as readonly string[]).includes(format)) throw new UsageError(`unknown format '${format}'. ${didYouMean(format, [...FORMATS])} (formats: ${FORMATS.join(", ")})`);
  if (!values.out) throw new UsageError(`missing --out DIR: the folder to write the ${format} model into`);
  const runDir = findRun(resolve(values["runs-dir"] ?? "runs"), positionals[0]!);
  await selectBackend("native"); // the ONNX and SavedModel writers record the model on it
  const r = await exportRun(runDir, { format: format as ExportFormat, out: values.out, force: values.force });
  if (values.json) {
    process.stdout.write(JSON.stringify({ out: r.out, format: r.format, files: r.files, check: r.card.export?.check }) + "\n");
    return EXIT.ok;
  }
  const shown = relative(process.cwd(), r.out) || ".";
  const check = r.card.export?.check;
  process.stderr.write(`exported run ${r.card.run_id} as ${r.format} to ${shown.startsWith("..") ? r.out : shown}\n`);
  for (const f of r.files) process.stderr.write(`  ${f}\n`);
  if (check) process.stderr.write(`checked against the tfjs model at batch ${check.batches.join(" and ")}: max |diff| ${check.max_abs_diff.toExponential(2)}\n`);
  const d = r.card.decision;
  process.stderr.write(`classes: ${r.card.classes.join(", ")}; ${d.kind === "threshold" ? `${d.positive_class} when p >= ${d.threshold.toPrecision(4)}` : "argmax"}; input ${r.card.input.width}x${r.card.input.height} ${r.card.input.color_mode}, preprocessing ${r.card.input.preprocessing.mode}\n`);
  return EXIT.ok;
}
