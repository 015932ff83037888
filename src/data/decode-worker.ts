/**
 * A decode worker thread: reads files and runs the JS PNG path on them (decode-png.ts), answering
 * each with the pixels (transferred, not copied), a reason the PNG cannot be used, or "sharp"
 * for a file the main thread should give to sharp. See decode-pool.ts.
 */
import { readFileSync } from "node:fs";
import { parentPort } from "node:worker_threads";
import type { DecodeOptions } from "./decode";
import { decodePngFast } from "./decode-png";
import { PngDataError } from "./png";
import type { Job, WorkerReply } from "./decode-pool";

const port = parentPort!;

// Requests come in batches (see decode-pool.ts); the answers go back as one message too.
port.on("message", (jobs: Job[]) => {
  const replies = jobs.map(({ id, abs, opts }) => ({ id, ...decode(abs, opts) }));
  const transfer = replies.flatMap((r) => ("px" in r ? [r.px.buffer as ArrayBuffer] : []));
  port.postMessage(replies, transfer);
});

function decode(abs: string, opts: DecodeOptions): WorkerReply {
  let buf: Buffer;
  try {
    buf = readFileSync(abs);
  } catch {
    return { reason: "cannot read file" };
  }
  try {
    const px = decodePngFast(buf, opts);
    if (!px) return { sharp: true };
    // transfer needs a buffer of its own; resize's output always is one, but check
    return { px: px.byteOffset === 0 && px.byteLength === px.buffer.byteLength ? px : px.slice() };
  } catch (err) {
    if (err instanceof PngDataError) return { reason: err.message };
    return { error: err instanceof Error ? err.message : String(err) };
  }
}
