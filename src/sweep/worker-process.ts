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

let running = false;

const send = (m: FromWorker): void => void (process.connected && process.send?.(m));

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
    running = true;
    runTrial(m.spec, { rungs, signal: controller.signal, onEvent: (event) => send({ type: "event", event }), warn: (message) => send({ type: "warn", message }) })
      .then((result) => send({ type: "result", result }))
      .catch((err: unknown) => send({ type: "error", message: err instanceof Error ? err.message : String(err), interrupted: controller.signal.aborted }))
      .finally(() => {
        running = false;
        if (!process.connected) process.exit(0);
      });
  }
});
// The parent is gone (closed, or killed: a `tlrun worker` stopped with SIGKILL). A trial in progress
// stops as interrupted, so its record and its MLflow run say so, and then this process exits.
process.on("disconnect", () => {
  if (!running) process.exit(0);
  controller.abort("its worker process ended");
});
// Ctrl-C reaches the whole process group; the parent decides, through "abort".
process.on("SIGINT", () => undefined);
