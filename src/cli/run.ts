import type { BackendChoice } from "../config/types";
import { loadPipeline } from "../executor/load";
import { interruptible } from "./interrupt";
import { EXIT, UsageError } from "../errors";
import { execute } from "../executor/execute";
import { JSON_OPTION, SET_OPTION, parse } from "./args";
import { trackerFromEnv } from "../tracking/observer";
import { readRunFolder } from "../report/read-run";
import { formatRunEnd } from "../report/terminal";
import { resumeRunCommand } from "./resume-command";
import { attachRun } from "./json-failure";
import type { RunSummary } from "../runs/record";
import { useColor } from "./color";

/** Colour only on a terminal, and never when NO_COLOR is set (no-color.org). */

export const BACKENDS = ["auto", "native", "native-gpu", "wasm", "cpu"];

export const RUN_USAGE = `tlrun run <pipeline.yaml> [--set path=value]... [--force] [--backend NAME] [--json]
tlrun <pipeline.yaml> [options]   (the same)
  run the pipeline's stages in order, taking each from the stage cache when its inputs are unchanged
    --set path=value   override a config value (repeatable), e.g. --set train.head.epochs=5; validated again
    --force            re-run every stage, ignoring the cache
    --backend NAME     ${BACKENDS.join(" | ")} (default auto: the fastest that loads)
    --json             print the run summary as one JSON object on stdout; on failure, one object
                       with status "failed" (or "interrupted"), the error and the exit code
  Ctrl-C stops after the current batch and keeps what finished; it prints the command that resumes
  (yours, without --force), which goes on from the last finished epoch.
  exit codes: 0 ok, 1 run failed, 2 invalid config or usage, 130 interrupted`;

/** `tlrun run <file>`: run the pipeline; Ctrl-C stops it cleanly and the next run resumes. */
export async function runCommand(argv: string[]): Promise<number> {
  const args = argv[0] === "run" ? argv.slice(1) : argv;
  const { values, positionals } = parse(
    args,
    { ...SET_OPTION, ...JSON_OPTION, force: { type: "boolean" }, backend: { type: "string" } },
    1,
    RUN_USAGE,
  );
  if (values.backend && !BACKENDS.includes(values.backend))
    throw new UsageError(`--backend ${values.backend} is not a backend; write one of ${BACKENDS.join(", ")}`);
  const loaded = loadPipeline(positionals[0]!, { overrides: values.set ?? [] });
  const stop = interruptible("stopping after the current batch");
  const tracker = trackerFromEnv((m) => void process.stderr.write(`tlrun: ${m}\n`));
  let ended: RunSummary | undefined; // the recorded run, for --json's failure object
  try {
    const summary = await execute(loaded, {
      force: values.force,
      backend: values.backend as BackendChoice | undefined,
      signal: stop.signal,
      stream: process.stderr,
      observers: [tracker, { onRunEnd: (s) => void (ended = s) }],
      resumeCommand: resumeRunCommand(argv),
    });
    if (values.json) process.stdout.write(JSON.stringify(summary) + "\n");
    else process.stdout.write(formatRunEnd(readRunFolder(summary.run_dir).report, summary, { color: useColor(process.stdout), mlflowUrl: tracker.runUrl() }));
    return EXIT.ok;
  } catch (err) {
    throw attachRun(err, ended);
  } finally {
    stop.dispose();
  }
}
