import * as tf from "@tensorflow/tfjs";
import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * Activations of the frozen part of the base, for whole views of the training set (the plain
 * images and fixed augmented copies), kept in scratch files and read back batch by batch. With
 * them, a fine-tune epoch runs only the unfrozen layers; memory stays flat however many images
 * there are.
 */
export class ActivationViews {
  private readonly dir = mkdtempSync(join(tmpdir(), "tlrun-views-"));
  private readonly sizes: number[];
  private readonly fds = new Map<string, number>();

  constructor(private readonly shapes: number[][]) {
    this.sizes = shapes.map((s) => s.reduce((a, b) => a * b, 1));
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
  }
}
