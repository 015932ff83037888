import { EXIT, HelpRequested, TlrunError, didYouMean } from "../errors";
import { auditCommand } from "./audit";
import { cacheCommand } from "./cache";
import { datasetCommand } from "./dataset";
import { doctorCommand } from "./doctor";
import { exportCommand } from "./export";
import { modelsCommand } from "./models";
import { planCommand } from "./plan";
import { predictCommand } from "./predict";
import { runCommand } from "./run";
import { syncCommand } from "./sync";
import { sweepCommand, workerCommand } from "./sweep";
import { uiCommand } from "./ui";
import { validateCommand } from "./validate";
import { weightsCommand } from "./weights";
import { TLRUN_VERSION } from "../util/version";
import { printFailureJson } from "./json-failure";

/** Every subcommand by name; each takes `--help` through `parse` (test/cli/help.test.ts holds every one to it). */
export const COMMANDS: Record<string, (argv: string[]) => Promise<number>> = {
  run: runCommand,
  plan: planCommand,
  audit: auditCommand,
  validate: validateCommand,
  doctor: doctorCommand,
  dataset: datasetCommand,
  models: modelsCommand,
  sweep: sweepCommand,
  worker: workerCommand,
  sync: syncCommand,
  predict: predictCommand,
  export: exportCommand,
  ui: uiCommand,
  cache: cacheCommand,
  weights: weightsCommand,
};

const HELP = `tlrun ${TLRUN_VERSION}: declarative transfer learning for image classifiers

usage:
  tlrun <pipeline.yaml> [options]        same as 'tlrun run'
  tlrun run <pipeline.yaml> [options]    run the pipeline's stages, reusing cached ones
      --set path=value   override a config value (repeatable); validated again
      --force            re-run every stage, ignoring the cache
      --backend NAME     auto | native | native-gpu | wasm | cpu
      --json             print the run summary as one JSON object on stdout
  tlrun sweep <pipeline.yaml> [options]  run the file's sweep: block; trials share cached stages
      --parallel N       trials at once (overrides sweep.parallel), each in a worker process
      --queue URL        send trials to a BullMQ queue on Redis, served by 'tlrun worker'
                         (redis://:PASSWORD@HOST:PORT or rediss:// for TLS; see tlrun worker -h)
      --resume [--id ID] continue the newest (or the named) unfinished sweep of this file
      --set, --backend, --json as for run
  tlrun worker --queue redis://HOST:PORT [--allow DIR]... [--name Q] [--lock-seconds S]
                     run sweep trials from the queue, only those under the --allow folders (tlrun worker -h)
  tlrun plan <pipeline.yaml> [--set ...] [--json]   list the stages and whether each is cached
  tlrun audit <pipeline.yaml> [--set ...] [--json]  prepare, extract and audit only: duplicates, leaks
                     across splits, likely label errors, outliers (tlrun audit -h)
  tlrun validate <pipeline.yaml> [--set ...]        check the file; exit 2 with located errors
  tlrun doctor [--json]                             backends, versions, weights
  tlrun dataset emoji|emoji-screening [options]   build a dataset from the emoji packages (see --help)
  tlrun models [NAME] [--freeze-at X] [--json]      architectures; one's layers, blocks, params
  tlrun predict <run-id | run folder | export> <image | folder | glob>... [--csv | --json] [--threshold T] [--top-k K]
                     [--batch-size B] [--runs-dir DIR] [--out FILE]   score images with a run's model
                     (exit 1 when some files could not be read; see tlrun predict --help)
  tlrun sync [<run-id> | --all] [--runs-dir DIR] [--uri URL]   send runs to MLflow (MLFLOW_TRACKING_URI); safe to repeat
  tlrun export <run> --format tfjs|onnx|savedmodel --out DIR [--force]   the model with its model card (tlrun export -h)
  tlrun ui [--port N] [--runs-dir DIR]              MLflow UI on 127.0.0.1 over a SQLite file in runs/, with local runs synced
  tlrun cache ls|verify|gc [--runs-dir DIR]         the stage cache: entries and their runs, a full digest check, drop what no run needs
  tlrun weights import <file.h5> [--model NAME]     put base weights brought by hand (offline) into the cache, checked against Keras' hash

every command takes --help (or -h) for its own usage, e.g. tlrun run --help
exit codes: 0 ok, 1 run failed, 2 invalid config or usage, 130 interrupted`;

/** Entry point of the CLI; returns the exit code. User errors print without a stack trace. */
export async function main(argv: string[]): Promise<number> {
  const [first, ...rest] = argv;
  try {
    if (!first || first === "--help" || first === "-h" || first === "help") {
      process.stdout.write(HELP + "\n");
      return first ? EXIT.ok : EXIT.usage;
    }
    if (first === "--version" || first === "-v") {
      process.stdout.write(`${TLRUN_VERSION}\n`);
      return EXIT.ok;
    }
    const command = COMMANDS[first];
    if (command) return await command(rest);
    if (/\.ya?ml$/i.test(first)) return await runCommand(argv);
    throw new TlrunError(`unknown command '${first}'. ${didYouMean(first, Object.keys(COMMANDS))} (see tlrun --help)`, EXIT.usage);
  } catch (err) {
    const code = reportError(err);
    printFailureJson(argv, err, code);
    return code;
  }
}

/** Print an error the way its kind deserves and return the exit code. */
export function reportError(err: unknown): number {
  if (err instanceof HelpRequested) {
    process.stdout.write(err.usage.replace(/\n?$/, "\n"));
    return EXIT.ok;
  }
  if (err instanceof TlrunError) {
    process.stderr.write(`${err.message.startsWith("/") || /^\S+:\d+:\d+/.test(err.message) ? "" : "tlrun: "}${err.message}\n`);
    return err.exitCode;
  }
  const e = err instanceof Error ? err : new Error(String(err));
  process.stderr.write(`tlrun: internal error, please report it with the lines below\n${e.stack ?? e.message}\n`);
  return EXIT.internal;
}
