import { ConfigError, EXIT, HelpRequested, TlrunError } from "../errors";

/**
 * What `--json` prints when a command fails: one object on stdout, as it prints one when the
 * command succeeds, so a script reading stdout always gets JSON to parse. The message also goes
 * to stderr for the person at the terminal.
 */

const runs = new WeakMap<object, object>();

/** Remember the run record an error ended, so the failure object carries its run_id, run_dir and stages. */
export function attachRun<E>(err: E, summary: object | undefined): E {
  if (summary && err !== null && typeof err === "object") runs.set(err, summary);
  return err;
}

/** Whether the arguments ask for JSON output: `--json` among the flags (not after `--`). */
export function wantsJson(argv: readonly string[]): boolean {
  const end = argv.indexOf("--");
  return (end < 0 ? argv : argv.slice(0, end)).includes("--json");
}

/**
 * The failure object: the run's summary when a run record exists, then `status` ("failed", or
 * "interrupted" for exit 130), `error` (the message), `exit_code`, and for a config error each
 * problem with its location.
 */
export function failureObject(err: unknown, exitCode: number): Record<string, unknown> {
  const message = err instanceof Error ? err.message : String(err);
  const problems = err instanceof ConfigError
    ? err.problems.map((p) => ({ ...(p.location ? { file: p.location.file, line: p.location.line, col: p.location.col } : {}), message: p.message, ...(p.hint ? { hint: p.hint } : {}) }))
    : undefined;
  return {
    ...(err !== null && typeof err === "object" ? runs.get(err) : {}),
    status: exitCode === EXIT.interrupted ? "interrupted" : "failed",
    error: message,
    exit_code: exitCode,
    ...(err instanceof TlrunError ? {} : { internal: true }),
    ...(problems ? { problems } : {}),
  };
}

/** Print the failure object when JSON was asked for and the command failed (help is not a failure). */
export function printFailureJson(argv: readonly string[], err: unknown, exitCode: number): void {
  if (exitCode === EXIT.ok || err instanceof HelpRequested || !wantsJson(argv)) return;
  process.stdout.write(JSON.stringify(failureObject(err, exitCode)) + "\n");
}
