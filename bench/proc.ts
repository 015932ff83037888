/** Child processes for the orchestrator: long-lived command workers and one-shot runs. */
import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, type WriteStream } from "node:fs";
import { createInterface } from "node:readline";

const PREFIX = "BENCH_RESULT ";

/** A worker that answers one BENCH_RESULT line per JSON command line (bench/worker.ts, bench/keras/worker.py). */
export class Worker {
  private child: ChildProcess;
  private waiting: Array<(v: Record<string, unknown>) => void> = [];
  private exited = false;
  readonly ready: Promise<Record<string, unknown>>;

  constructor(readonly name: string, cmd: string, args: string[], log: WriteStream, env: NodeJS.ProcessEnv = {}) {
    this.child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ["pipe", "pipe", "pipe"] });
    this.child.stderr!.on("data", (d: Buffer) => log.write(`[${name}] ${d}`));
    createInterface({ input: this.child.stdout! }).on("line", (line) => {
      if (!line.startsWith(PREFIX)) return void log.write(`[${name}] ${line}\n`);
      this.waiting.shift()?.(JSON.parse(line.slice(PREFIX.length)));
    });
    this.child.on("exit", (code) => {
      this.exited = true;
      for (const w of this.waiting.splice(0)) w({ ok: false, error: `${name} exited with ${code} (see the log)` });
    });
    this.ready = new Promise((resolve) => this.waiting.push(resolve));
  }

  /** Send one command; resolves with the worker's result, throwing when it reports an error. */
  async call(cmd: Record<string, unknown>): Promise<Record<string, number>> {
    if (this.exited) throw new Error(`${this.name} is not running`);
    const answer = new Promise<Record<string, unknown>>((resolve) => this.waiting.push(resolve));
    this.child.stdin!.write(JSON.stringify(cmd) + "\n");
    const r = await answer;
    if (r.ok === false) throw new Error(`${this.name} ${String(cmd.cmd)}: ${String(r.error)}`);
    return r as Record<string, number>;
  }

  close(): void {
    if (!this.exited) this.child.stdin!.end(JSON.stringify({ cmd: "exit" }) + "\n");
  }
}

/** Run a command to completion; returns stdout, and rejects with the stderr tail on failure. */
export function runOnce(cmd: string, args: string[], log: WriteStream, env: NodeJS.ProcessEnv = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let errTail = "";
    child.stdout.on("data", (d: Buffer) => void (out += d));
    child.stderr.on("data", (d: Buffer) => {
      log.write(d);
      errTail = (errTail + d).slice(-2000);
    });
    child.on("exit", (code) => (code === 0 ? resolve(out) : reject(new Error(`${cmd} ${args.join(" ")} exited ${code}: ${errTail}`))));
  });
}

/** The BENCH_RESULT object a one-shot child printed. */
export function resultOf(stdout: string): Record<string, number> {
  const line = stdout.split("\n").find((l) => l.startsWith(PREFIX));
  if (!line) throw new Error(`no result in child output: ${stdout.slice(-300)}`);
  return JSON.parse(line.slice(PREFIX.length)) as Record<string, number>;
}

export const openLog = (path: string): WriteStream => createWriteStream(path, { flags: "a" });
