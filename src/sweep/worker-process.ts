/**
 * A local sweep worker: runs the trials its parent sends over IPC, one at a time, and exits when
 * the parent disconnects. ASHA questions go to the parent, which holds the rungs.
 */
import type { RungStore } from "./asha";
import type { FromWorker, ToWorker } from "./runners";
import { runTrial } from "./trial";

let controller = new AbortController();
let nextId = 0;
const replies = new Map<number, (go: boolean) => void>();

const send = (m: FromWorker): void => void process.send?.(m);

const rungs: RungStore = {
  report: (trial, rung, value) => new Promise((resolve) => {
    const id = nextId++;
    replies.set(id, resolve);
    send({ type: "rung", id, trial, rung, value });
  }),
};

process.on("message", (m: ToWorker) => {
  if (m.type === "rung-reply") {
    replies.get(m.id)?.(m.go);
    replies.delete(m.id);
  } else if (m.type === "abort") controller.abort(m.reason);
  else if (m.type === "run") {
    controller = new AbortController();
    runTrial(m.spec, { rungs, signal: controller.signal, onEvent: (event) => send({ type: "event", event }), warn: (msg) => void process.stderr.write(`${msg}\n`) })
      .then((result) => send({ type: "result", result }))
      .catch((err: unknown) => send({ type: "error", message: err instanceof Error ? err.message : String(err), interrupted: controller.signal.aborted }));
  }
});
process.on("disconnect", () => process.exit(0));
// Ctrl-C reaches the whole process group; the parent decides, through "abort".
process.on("SIGINT", () => undefined);
