import { closeSync, openSync, writeSync } from "node:fs";
import { isAbsolute, relative, resolve } from "node:path";
import { parse } from "./args";
import { selectBackend } from "../backend/select";
import { checkInputs, expandInputs } from "../deploy/inputs";
import { rowFormatter, type OutputFormat } from "../deploy/format";
import { findRunDir, readRun, withThreshold } from "../deploy/load-run";
import { predictFiles } from "../deploy/predict";
import { EXIT, UsageError } from "../errors";

export const PREDICT_HELP = `tlrun predict <run-id | run folder | exported folder> <image | folder | glob>... [options]
  score images with a finished run's model (or a tfjs/onnx folder from 'tlrun export'); class
  names, decoding, preprocessing, input size and the binary threshold all come from the run (or
  the export's model card)
      --csv              CSV on stdout: path, p_<class> per class, predicted[, threshold]
                         (a two-class run predicts at its threshold, not by argmax)
      --json             one JSON object per line
                         (default: CSV when stdout is not a terminal, a readable table when it is)
      --threshold T      a two-class run's threshold on P(positive) instead of the run's own
      --top-k K          also give the K most probable classes of each image
      --batch-size B     images per batch (default 32)
      --runs-dir DIR     where run ids are looked up (default runs)
      --out FILE         write the rows to FILE instead of stdout
  folders are searched recursively for .png .jpg .jpeg .webp .gif .tif .tiff .avif files; quote a
  glob ('scans/**/*.png') to let tlrun expand it. Rows are written as batches finish.
  exit codes: 0 every image scored; 1 some files could not be read (each named on stderr, the rest
  scored); 2 usage error (no such run, a run that did not complete, no images, bad option)`;

const OPTIONS = {
  csv: { type: "boolean" }, json: { type: "boolean" }, threshold: { type: "string" }, "top-k": { type: "string" },
  "batch-size": { type: "string" }, "runs-dir": { type: "string" }, out: { type: "string" },
} as const;

function positiveInt(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${flag} ${v} is not a whole number of at least 1`);
  return n;
}

/** A path as the user would write it: relative to the working folder when it is inside it. */
function shown(abs: string): string {
  const rel = relative(process.cwd(), abs);
  return rel && !rel.startsWith("..") && !isAbsolute(rel) ? rel : abs;
}

/** Progress on stderr: a rewritten line on a terminal, a line every 5,000 images otherwise. */
function progressReporter(): { update(scored: number, skipped: number): void; end(): void } {
  const started = performance.now();
  const tty = process.stderr.isTTY === true;
  let lastLine = 0;
  let shownLine = false;
  const text = (scored: number, skipped: number) => {
    const s = (performance.now() - started) / 1000;
    return `${scored} images scored${skipped ? `, ${skipped} skipped` : ""}, ${(scored / Math.max(s, 1e-3)).toFixed(0)}/s`;
  };
  return {
    update(scored, skipped) {
      if (tty) {
        if (scored + skipped < 256) return; // a few files need no progress line
        process.stderr.write(`\r${text(scored, skipped)}\x1b[K`);
        shownLine = true;
      } else if (scored - lastLine >= 5000) {
        lastLine = scored;
        process.stderr.write(`${text(scored, skipped)}\n`);
      }
    },
    end: () => void (shownLine && process.stderr.write("\r\x1b[K")),
  };
}

/** `tlrun predict`: score images with a finished run's model and stream one row per image. */
export async function predictCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, OPTIONS, { min: 0 }, PREDICT_HELP);
  if (values.csv && values.json) throw new UsageError("give --csv or --json, not both");
  const [target, ...inputs] = positionals;
  if (!target) throw new UsageError(`name a run and the images to score\nusage: ${PREDICT_HELP}`);
  const threshold = values.threshold === undefined ? undefined : Number(values.threshold);
  if (threshold !== undefined && Number.isNaN(threshold)) throw new UsageError(`--threshold ${values.threshold} is not a number`);
  const run = withThreshold(readRun(findRunDir(resolve(values["runs-dir"] ?? "runs"), target)), threshold);
  const topK = positiveInt("--top-k", values["top-k"]);
  if (topK !== undefined && topK > run.classes.length) throw new UsageError(`--top-k ${topK}: run ${run.id} has only ${run.classes.length} classes`);
  const batchSize = positiveInt("--batch-size", values["batch-size"]);
  checkInputs(inputs);

  const fd = values.out ? openSync(values.out, "w") : undefined;
  const toTerminal = fd === undefined && process.stdout.isTTY === true;
  const format: OutputFormat = values.json ? "json" : values.csv || !toTerminal ? "csv" : "table";
  const fmt = rowFormatter(format, run.classes, run.binary, topK);
  const write = (s: string): void => void (fd === undefined ? process.stdout.write(s) : writeSync(fd, s));
  const progress = progressReporter();
  try {
    await selectBackend("auto");
    let headed = false;
    const header = (): void => void (headed || (write(fmt.header()), (headed = true)));
    const result = await predictFiles(run, expandInputs(inputs), {
      batchSize,
      onRow: (p) => (header(), write(fmt.row({ ...p, path: shown(p.path) }))),
      onSkip: (path, reason) => process.stderr.write(`skipped ${shown(path)}: ${reason.replace(`cannot decode ${path}: `, "")}\n`),
      onProgress: (scored, skipped) => progress.update(scored, skipped),
    });
    progress.end();
    header(); // written after the model loaded, so a refused model leaves no half output
    const timing = result.scored >= 1000 || process.env.TLRUN_PREDICT_STATS
      ? ` in ${result.seconds.toFixed(1)}s (${result.setupSeconds.toFixed(1)}s loading the model, then ${((result.scored + result.skipped) / Math.max(result.seconds - result.setupSeconds, 1e-3)).toFixed(0)} images/s; ${result.runner})` : "";
    if (result.skipped || timing) process.stderr.write(`${result.scored} scored, ${result.skipped} skipped${timing}\n`);
    return result.skipped ? EXIT.runFailed : EXIT.ok;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
