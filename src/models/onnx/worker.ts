/**
 * An inference worker thread (workers.ts): one ONNX Runtime session of its own, answering each
 * batch, posted as the number of a shared input slot, with the model's outputs. The session is
 * loaded from `workerData` at start; the worker says `{ ready }` or why it cannot run.
 */
import { parentPort, workerData } from "node:worker_threads";
import { loadOrt, ortSession, type OrtSession } from "./runtime";

export interface WorkerInit {
  model: Uint8Array;
  /** The input shape the model was exported at, batch first. */
  inputShape: number[];
  threads: number;
  /** Shared input slots of one batch each; a request names the one holding its `n` inputs. */
  slots: Float32Array[];
}

export type WorkerRequest = { id: number; slot: number; n: number };
export type WorkerReply = { id: number; outs: Float32Array[] } | { id: number; error: string };
export type WorkerStatus = { ready: true } | { failed: string };

const port = parentPort!;
const init = workerData as WorkerInit;
const batch = init.inputShape[0]!;
const per = init.inputShape.slice(1).reduce((a, b) => a * b, 1);
let session: OrtSession | undefined;
/** ONNX Runtime takes no shared memory, so each batch is copied here first (and zero-padded when short). */
const input = new Float32Array(batch * per);

function start(): WorkerStatus {
  const ort = loadOrt();
  if (typeof ort === "string") return { failed: ort };
  try {
    session = ortSession(ort, init.model, init.threads);
    return { ready: true };
  } catch (err) {
    return { failed: (err as Error).message.split("\n")[0]!.slice(0, 300) };
  }
}

function run({ id, slot, n }: WorkerRequest): WorkerReply {
  try {
    input.set(init.slots[slot]!.subarray(0, n * per));
    if (n < batch) input.fill(0, n * per);
    const outs = session!.run(input, init.inputShape).map((o) => (n === batch ? o.data : o.data.slice(0, (o.data.length / batch) * n)));
    return { id, outs };
  } catch (err) {
    return { id, error: (err as Error).message.split("\n")[0]!.slice(0, 300) };
  }
}

port.postMessage(start());
port.on("message", (m: WorkerRequest) => {
  const reply = run(m);
  // outputs are fresh arrays of their own (the binding's, or a slice), so they can be moved, not copied
  port.postMessage(reply, "outs" in reply ? reply.outs.map((o) => o.buffer as ArrayBuffer) : []);
});
