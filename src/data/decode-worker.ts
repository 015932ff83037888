/**
 * A decode worker thread: reads files and runs the JS PNG path on them (decode-png.ts), answering
 * each with the pixels (transferred, not copied), a reason the PNG cannot be used, or "sharp"
 * for a file the main thread should give to sharp. A job that asks for it is also finished
 * (finish.ts: augmented, converted to floats) straight into the batch's shared memory, and then
 * only its pixels for the cache, if any, travel back. See decode-pool.ts.
 */
import { readFileSync } from "node:fs";
import { parentPort } from "node:worker_threads";
import { decodePngFast } from "./decode-png";
import type { Job, WorkerReply } from "./decode-pool";
import { finishInto } from "./finish";
import { PngDataError } from "./png";

const port = parentPort!;

// Requests come in batches (see decode-pool.ts); the answers go back as one message too.
port.on("message", (jobs: Job[]) => {
  const replies = jobs.map((job) => ({ id: job.id, ...run(job) }));
  const transfer = replies.flatMap((r) => ("px" in r ? [r.px.buffer as ArrayBuffer] : []));
  port.postMessage(replies, transfer);
});

function run(job: Job): WorkerReply {
  const [h, w] = job.opts.size;
  if (job.px) return guarded(() => (finishInto(job.px!, h, w, job.finish!.into), { written: true }));
  let buf: Buffer;
  try {
    buf = readFileSync(job.abs!);
  } catch {
    return { reason: "cannot read file" };
  }
  return guarded((): WorkerReply => {
    const decoded = decodePngFast(buf, job.opts);
    if (!decoded) return { sharp: true };
    // transfer needs a buffer of its own; resize's output always is one, but check
    const px = decoded.byteOffset === 0 && decoded.byteLength === decoded.buffer.byteLength ? decoded : decoded.slice();
    if (!job.finish) return { px };
    finishInto(px, h, w, job.finish.into);
    return job.finish.keep ? { px, written: true } : { written: true };
  });
}

/** `f`'s answer, or the reason or error it threw. */
function guarded(f: () => WorkerReply): WorkerReply {
  try {
    return f();
  } catch (err) {
    if (err instanceof PngDataError) return { reason: err.message };
    return { error: err instanceof Error ? err.message : String(err) };
  }
}
