import { createHash } from "node:crypto";
import { Worker } from "node:worker_threads";

/**
 * Checks a file's blocks against their digests as a reader fills a buffer block by block. For a
 * large file the hashing runs on a worker thread over the same (shared) memory while the reader
 * goes on reading, so the check costs little more than the read (see docs/cache.md for figures);
 * a small one is hashed in line.
 */
export interface BlockChecker {
  /** Block `i` is in the buffer. */
  blockRead(i: number): void;
  /** Wait for the last hash; the 0-based index of the first block that does not match, or -1. */
  finish(): number;
}

/** Files from this size are hashed on a worker thread (starting one costs tens of ms). */
export const PARALLEL_CHECK_BYTES = 128 * 1024 * 1024;

/** The size from which a worker hashes: TLRUN_CACHE_PARALLEL_CHECK=0 keeps every check in line. */
export function parallelCheckFrom(env: NodeJS.ProcessEnv = process.env): number {
  return env.TLRUN_CACHE_PARALLEL_CHECK === "0" ? Infinity : PARALLEL_CHECK_BYTES;
}

const sha = (b: Uint8Array): string => createHash("sha256").update(b).digest("hex");

/** `bytes` must be on a SharedArrayBuffer for the worker to see it; otherwise the check runs in line. */
export function blockChecker(bytes: Uint8Array, blockBytes: number, blocks: readonly string[], parallelFrom = parallelCheckFrom()): BlockChecker {
  const block = (i: number): Uint8Array => bytes.subarray(i * blockBytes, Math.min((i + 1) * blockBytes, bytes.byteLength));
  if (!(bytes.buffer instanceof SharedArrayBuffer) || bytes.byteLength < parallelFrom) {
    let bad = -1;
    return {
      blockRead: (i) => void (bad < 0 && sha(block(i)) !== blocks[i] && (bad = i)),
      finish: () => bad,
    };
  }
  return workerChecker(bytes, blockBytes, blocks, block);
}

/** State shared with the worker: [blocks read, blocks hashed, first bad block + 1]. */
const READ = 0;
const HASHED = 1;
const BAD = 2;

const WORKER = `
const { workerData } = require("node:worker_threads");
const { createHash } = require("node:crypto");
const { buffer, offset, length, blockBytes, blocks, state } = workerData;
const s = new Int32Array(state);
for (let i = 0; i < blocks.length; i++) {
  let r;
  while ((r = Atomics.load(s, ${READ})) <= i) Atomics.wait(s, ${READ}, r, 1000);
  const start = i * blockBytes;
  const b = new Uint8Array(buffer, offset + start, Math.min(blockBytes, length - start));
  if (createHash("sha256").update(b).digest("hex") !== blocks[i]) Atomics.store(s, ${BAD}, i + 1);
  Atomics.store(s, ${HASHED}, Atomics.load(s, ${BAD}) ? blocks.length : i + 1);
  Atomics.notify(s, ${HASHED});
  if (Atomics.load(s, ${BAD})) break;
}`;

/** How long the reader waits for a worker that makes no progress before hashing the rest itself. */
const STALL_MS = 30_000;

function workerChecker(bytes: Uint8Array, blockBytes: number, blocks: readonly string[], block: (i: number) => Uint8Array): BlockChecker {
  const s = new Int32Array(new SharedArrayBuffer(12));
  const worker = new Worker(WORKER, {
    eval: true,
    workerData: { buffer: bytes.buffer, offset: bytes.byteOffset, length: bytes.byteLength, blockBytes, blocks, state: s.buffer },
  });
  worker.unref();
  worker.on("error", () => undefined); // a dead worker stalls; finish() then hashes in line
  return {
    blockRead(i) {
      Atomics.store(s, READ, i + 1);
      Atomics.notify(s, READ);
    },
    finish() {
      let last = Atomics.load(s, HASHED);
      let since = performance.now();
      while (last < blocks.length) {
        Atomics.wait(s, HASHED, last, 1000);
        const now = Atomics.load(s, HASHED);
        if (now !== last) (last = now), (since = performance.now());
        else if (performance.now() - since > STALL_MS) break;
      }
      void worker.terminate();
      if (Atomics.load(s, BAD)) return Atomics.load(s, BAD) - 1;
      for (let i = last; i < blocks.length; i++) if (sha(block(i)) !== blocks[i]) return i;
      return -1;
    },
  };
}
