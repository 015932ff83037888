import { appendFileSync } from "node:fs";
import { hostname } from "node:os";

/**
 * A line per lock and commit event appended to `$TLRUN_TRACE_FILE`, off unless it is set. The
 * shared-cache test (test/cache/shared-hosts.test.ts) runs real `tlrun run` processes on two
 * "hosts" and reads these lines to prove that no two live processes held one entry's lock at once
 * and that each entry was committed once, inside its lock. Each line is one small O_APPEND write,
 * so it survives a kill -9 right after, and lines of several processes never interleave.
 *
 * Format: `<event> <path> <host> <pid> <monotonic ns> [detail]`; the monotonic clock is the
 * machine's, shared by every process on it (and by its PID and UTS namespaces).
 */
export function trace(event: string, path: string, detail = ""): void {
  const file = process.env.TLRUN_TRACE_FILE;
  if (!file) return;
  appendFileSync(file, `${event} ${path} ${hostname()} ${process.pid} ${process.hrtime.bigint()}${detail ? ` ${detail}` : ""}\n`);
}
