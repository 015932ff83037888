import * as tf from "@tensorflow/tfjs";
import { closeSync, openSync, readSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import { makeScratch } from "../cache/scratch";

/**
 * Scratch folders of this process not yet disposed. A second Ctrl-C ends the process with
 * process.exit, which runs no `finally`; the exit hook still removes them then. Only a kill -9
 * leaves one behind, for the next run's sweepScratch.
 */
const live = new Set<string>();
const removeLive = (): void => {
  for (const dir of live) rmSync(dir, { recursive: true, force: true });
};

/**
 * Activations of the frozen part of the base, for whole views of the training set (the plain
 * images and fixed augmented copies), kept in scratch files and read back batch by batch. With
 * them, a fine-tune epoch runs only the unfrozen layers; memory stays flat however many images
 * there are. The files go in a folder of this process under `scratchRoot` (runtime.scratch_dir,
 * by default beside the cache: they reach gigabytes, and the system temp folder is often RAM).
 */
export class ActivationViews {
  /** This object's own folder under the scratch root, removed by dispose() or at exit. */
  readonly dir: string;
  private readonly sizes: number[];
  private readonly fds = new Map<string, number>();

  constructor(private readonly shapes: number[][], scratchRoot: string) {
    this.sizes = shapes.map((s) => s.reduce((a, b) => a * b, 1));
    this.dir = makeScratch(scratchRoot, "views");
    if (live.size === 0) process.on("exit", removeLive);
    live.add(this.dir);
  }

  private fd(view: number, j: number, flags: "w" | "r"): number {
    const key = `${view}-${j}-${flags}`;
    let fd = this.fds.get(key);
    if (fd === undefined) {
      fd = openSync(join(this.dir, `view-${view}-${j}.f32`), flags);
      this.fds.set(key, fd);
    }
    return fd;
  }

  /** Append the activations of the next rows of `view` (one array per frontier tensor). */
  append(view: number, parts: Float32Array[]): void {
    parts.forEach((p, j) => writeSync(this.fd(view, j, "w"), new Uint8Array(p.buffer, p.byteOffset, p.byteLength)));
  }

  /** Finish writing a view; it can be read from now on. */
  seal(view: number): void {
    this.shapes.forEach((_, j) => {
      const key = `${view}-${j}-w`;
      const fd = this.fds.get(key);
      if (fd !== undefined) closeSync(fd), this.fds.delete(key);
    });
  }

  /** The rows `idx` of `view` as tensors shaped like the unfrozen model's inputs. */
  batch(view: number, idx: number[]): tf.Tensor[] {
    return this.sizes.map((size, j) => {
      const out = new Float32Array(idx.length * size);
      const bytes = new Uint8Array(out.buffer);
      const fd = this.fd(view, j, "r");
      idx.forEach((r, i) => readSync(fd, bytes, i * size * 4, size * 4, r * size * 4));
      return tf.tensor(out, [idx.length, ...this.shapes[j]!]);
    });
  }

  dispose(): void {
    for (const fd of this.fds.values()) closeSync(fd);
    this.fds.clear();
    rmSync(this.dir, { recursive: true, force: true });
    live.delete(this.dir);
    if (live.size === 0) process.off("exit", removeLive);
  }
}
