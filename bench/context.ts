/** What every benchmark section shares: options, workers (started lazily), the log and the results. */
import type { WriteStream } from "node:fs";
import { join } from "node:path";
import { ROOT } from "./common";
import { Worker } from "./proc";

export interface Row {
  section: string;
  metric: string;
  tlrun?: number;
  reference?: number;
  refName?: string;
  ratio?: number;
  target?: string;
  pass?: boolean;
  unit?: string;
  note?: string;
}

export interface Options {
  only: Set<string>;
  rounds: number;
  quick: boolean;
  keep: boolean;
  /** Image counts for the folder section (--folder-sizes 2500,10000); its default otherwise. */
  folderSizes?: number[];
}

export class Context {
  readonly rows: Row[] = [];
  readonly raw: Record<string, unknown> = {};
  private workers = new Map<string, Worker>();

  constructor(readonly opts: Options, readonly log: WriteStream, readonly tmp: string, readonly python: string) {}

  /** A tlrun worker on `backend` (native, wasm, cpu), started on first use. */
  async tlrun(backend: string, variant?: { name: string; env: NodeJS.ProcessEnv }): Promise<Worker> {
    const key = variant ? `${backend}-${variant.name}` : backend;
    return this.start(key, () => new Worker(key, process.execPath, [join(ROOT, "dist", "bench", "worker.js"), "--backend", backend], this.log, variant?.env));
  }

  /** The Keras worker (bench/.venv python). */
  async keras(): Promise<Worker> {
    return this.start("keras", () => new Worker("keras", this.python, [join(ROOT, "bench", "keras", "worker.py")], this.log));
  }

  private async start(key: string, make: () => Worker): Promise<Worker> {
    let w = this.workers.get(key);
    if (!w) {
      w = make();
      this.workers.set(key, w);
      const ready = await w.ready;
      if (ready.ok === false) throw new Error(`${key} worker failed to start: ${String(ready.error)}`);
      this.raw[`worker_${key}`] = ready;
    }
    return w;
  }

  stop(key: string): void {
    this.workers.get(key)?.close();
    this.workers.delete(key);
  }

  closeAll(): void {
    for (const k of [...this.workers.keys()]) this.stop(k);
  }

  add(row: Row): void {
    this.rows.push(row);
  }
}

/** Median of a list. */
export function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
