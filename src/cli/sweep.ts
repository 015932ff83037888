import type { BackendChoice } from "../config/types";
import { interruptible } from "./interrupt";
import { EXIT, UsageError } from "../errors";
import { serveQueue, DEFAULT_QUEUE } from "../sweep/queue";
import { secretFrom } from "../sweep/job-signature";
import { runSweep } from "../sweep/run";
import { allowedRoots } from "../sweep/worker-trust";
import { JSON_OPTION, SET_OPTION, parse } from "./args";
import { resumeSweepCommand } from "./resume-command";
import { BACKENDS } from "./run";

const positiveInt = (flag: string, v: string | undefined): number | undefined => {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${flag} takes a whole number of at least 1, found '${v}'`);
  return n;
};

export const SWEEP_USAGE = `tlrun sweep <pipeline.yaml> [options]
  run the file's sweep: block; trials share every cached stage they have in common
    --parallel N       trials at once (overrides sweep.parallel), each in a worker process
    --queue URL        send trials to a BullMQ queue on Redis, served by 'tlrun worker'
                       (redis://:PASSWORD@HOST:PORT, or rediss:// for TLS; see tlrun worker -h)
    --queue-name Q     the queue's name (default ${DEFAULT_QUEUE})
    --resume [--id ID] continue the newest (or the named) unfinished sweep of this file
    --set path=value   override a config value (repeatable), as for tlrun run
    --backend NAME     ${BACKENDS.join(" | ")}
    --json             the sweep's result as one JSON object on stdout; on failure, one object
                       with status "failed" (or "interrupted"), the error and the exit code`;

/** `tlrun sweep <file>`: run the file's sweep block; `--resume` continues an interrupted one. */
export async function sweepCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    ...SET_OPTION, ...JSON_OPTION, resume: { type: "boolean" }, id: { type: "string" }, queue: { type: "string" }, "queue-name": { type: "string" },
    parallel: { type: "string" }, backend: { type: "string" },
  }, 1, SWEEP_USAGE);
  if (values.backend && !BACKENDS.includes(values.backend)) throw new UsageError(`--backend ${values.backend} is not a backend; write one of ${BACKENDS.join(", ")}`);
  if (values.id && !values.resume) throw new UsageError("--id names the sweep to resume; use it with --resume");
  const { signal, dispose } = interruptible("stopping");
  try {
    const out = await runSweep(positionals[0]!, {
      overrides: values.set ?? [], resume: values.resume ? values.id ?? true : false, queue: values.queue, queueName: values["queue-name"],
      parallel: positiveInt("--parallel", values.parallel), backend: values.backend as BackendChoice | undefined, signal,
      resumeCommand: (sweepId) => resumeSweepCommand(["sweep", ...argv], sweepId),
    });
    const failed = out.status === "failed";
    if (values.json) process.stdout.write(JSON.stringify(failed ? { ...out, error: "every trial failed", exit_code: EXIT.runFailed } : out) + "\n");
    else {
      const b = out.best;
      process.stderr.write(`sweep ${out.sweep_id} ${out.status}: ${out.trials.length} trials in ${out.seconds.toFixed(1)}s\n`);
      process.stderr.write(b ? `  best: trial ${b.trial} ${out.metric} ${b.value.toFixed(4)} with ${JSON.stringify(b.params)}\n  run ${b.run_id}\n` : "  no trial completed\n");
      process.stderr.write(`  ${out.sweep_dir}/sweep/trials.csv\n`);
    }
    return failed ? EXIT.runFailed : EXIT.ok;
  } finally {
    dispose();
  }
}

export const WORKER_HELP = `tlrun worker --queue URL [--allow DIR]... [--name Q] [--lock-seconds S]

Run sweep trials from a BullMQ queue on Redis, one at a time, until stopped (Ctrl-C).

  --queue URL         redis://[:PASSWORD@]HOST:PORT[/DB], or rediss://… for TLS
  --allow DIR         a folder jobs may read and write under (repeatable; default: the
                      working directory). A job whose pipeline file, data folder, runs
                      folder, base model or weights file (after its --set overrides, with
                      symbolic links followed) lies outside every --allow folder is refused:
                      the trial fails with the reason and the worker goes on serving.
  --name Q            the queue's name (default ${DEFAULT_QUEUE}); as 'tlrun sweep --queue-name'
  --lock-seconds S    a trial whose worker stops renewing its lock this long is retried (60)

Trust: anyone who can write to the Redis can queue jobs, so put a password on it
(redis-server --requirepass) and, across a network, TLS. The worker runs only jobs that
name paths under its --allow folders, and with TLRUN_QUEUE_SECRET set (on the sweep and
the workers, never as a flag) only jobs signed with that secret (HMAC-SHA256).

Environment:
  TLRUN_REDIS_PASSWORD  the Redis password, when it is not in the URL (keeps it out of ps)
  TLRUN_REDIS_CA        a PEM file of the CA that signed a rediss:// server's certificate
  TLRUN_QUEUE_SECRET    the shared secret jobs are signed with
The password is shown as *** wherever a URL is printed.`;

/** `tlrun worker --queue redis://…`: run sweep trials from a BullMQ queue until stopped. */
export async function workerCommand(argv: string[]): Promise<number> {
  const { values } = parse(argv, {
    queue: { type: "string" }, name: { type: "string" }, "lock-seconds": { type: "string" }, allow: { type: "string", multiple: true },
  }, 0, WORKER_HELP);
  if (!values.queue) throw new UsageError("tlrun worker needs --queue redis://host:port (the Redis a 'tlrun sweep --queue' uses); see tlrun worker --help");
  const roots = allowedRoots(values.allow ?? []);
  const lockSeconds = positiveInt("--lock-seconds", values["lock-seconds"]) ?? 60;
  const { signal, dispose } = interruptible("stopping");
  try {
    await serveQueue(values.queue, {
      name: values.name ?? DEFAULT_QUEUE, lockSeconds, roots, secret: secretFrom(), signal,
      log: (line) => void process.stderr.write(`tlrun worker ${process.pid}: ${line}\n`),
    });
    return EXIT.ok;
  } finally {
    dispose();
  }
}
