import { EXIT } from "../errors";

/**
 * Ctrl-C (or SIGTERM) once: say so and abort the returned signal, so the work stops at its next
 * safe point and the next run resumes; a second one exits at once. `what` ends the message:
 * "stopping after the current batch". `dispose` removes the handlers.
 */
export function interruptible(what: string): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals): void => {
    if (++signals > 1) process.exit(EXIT.interrupted);
    process.stderr.write(`\ntlrun: ${sig} received, ${what} (again to stop now)\n`);
    controller.abort(sig);
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  return { signal: controller.signal, dispose: () => (process.off("SIGINT", onSignal), process.off("SIGTERM", onSignal)) };
}
