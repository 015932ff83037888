import { fork, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import type { RungStore } from "./asha";
import { runTrial, type TrialEvent, type TrialResult, type TrialSpec } from "./trial";

/** Where trials run: in this process, in local worker processes, or on a queue's workers. */
export interface TrialRunner {
  run(spec: TrialSpec, onEvent: (e: TrialEvent) => void, signal: AbortSignal): Promise<TrialResult>;
  close(): Promise<void>;
}

/** One trial at a time in the sweep's own process. */
export class InProcessRunner implements TrialRunner {
  constructor(private readonly rungs: RungStore, private readonly warn: (m: string) => void) {}

  run(spec: TrialSpec, onEvent: (e: TrialEvent) => void, signal: AbortSignal): Promise<TrialResult> {
    return runTrial(spec, { rungs: this.rungs, signal, onEvent, warn: this.warn });
  }

  async close(): Promise<void> {}
}

/** Messages between the sweep and a local worker process. */
export type ToWorker = { type: "run"; spec: TrialSpec } | { type: "abort"; reason: string } | { type: "rung-reply"; id: number; go: boolean };
export type FromWorker =
  | { type: "event"; event: TrialEvent }
  | { type: "warn"; message: string }
  | { type: "rung"; id: number; trial: number; rung: number; value: number }
  | { type: "result"; result: TrialResult }
  | { type: "error"; message: string; interrupted: boolean };

interface Slot {
  child: ChildProcess;
  busy: boolean;
}

/**
 * `parallel: N` on one machine: N long-lived worker processes (each loads TensorFlow once), fed
 * one trial at a time over IPC. ASHA decisions come back to the sweep, which holds the rungs. A
 * worker that dies mid-trial is replaced and the trial is retried once on the new one.
 */
export class ProcessPoolRunner implements TrialRunner {
  private readonly slots: Slot[] = [];
  private readonly waiting: Array<(s: Slot) => void> = [];

  constructor(size: number, private readonly rungs: RungStore, private readonly warn: (m: string) => void, private readonly env: NodeJS.ProcessEnv = process.env) {
    for (let i = 0; i < size; i++) this.slots.push({ child: this.spawn(), busy: false });
  }

  private spawn(): ChildProcess {
    return fork(join(__dirname, "worker-process.js"), [], { env: this.env, stdio: ["ignore", "ignore", "pipe", "ipc"], execArgv: [] });
  }

  private acquire(): Promise<Slot> {
    const free = this.slots.find((s) => !s.busy);
    if (free) return Promise.resolve((free.busy = true, free));
    return new Promise((r) => this.waiting.push(r));
  }

  private releaseSlot(slot: Slot): void {
    const next = this.waiting.shift();
    if (next) next(slot);
    else slot.busy = false;
  }

  async run(spec: TrialSpec, onEvent: (e: TrialEvent) => void, signal: AbortSignal): Promise<TrialResult> {
    const slot = await this.acquire();
    try {
      for (let attempt = 1; ; attempt++) {
        try {
          return await this.once(slot, spec, onEvent, signal);
        } catch (err) {
          if (!(err instanceof WorkerDied) || attempt > 1 || signal.aborted) throw err;
          this.warn(`trial ${spec.index}: its worker process died (${err.message}); retrying it on a new one`);
          slot.child = this.spawn();
        }
      }
    } finally {
      if (slot.child.exitCode !== null || slot.child.signalCode !== null) slot.child = this.spawn();
      this.releaseSlot(slot);
    }
  }

  private once(slot: Slot, spec: TrialSpec, onEvent: (e: TrialEvent) => void, signal: AbortSignal): Promise<TrialResult> {
    const child = slot.child;
    let stderr = "";
    return new Promise<TrialResult>((resolve, reject) => {
      const onErr = (d: Buffer): void => void (stderr = (stderr + d.toString()).slice(-4000));
      const onAbort = (): void => void child.send({ type: "abort", reason: String(signal.reason ?? "SIGINT") } satisfies ToWorker);
      const cleanup = (): void => {
        child.off("message", onMessage);
        child.off("exit", onExit);
        child.stderr?.off("data", onErr);
        signal.removeEventListener("abort", onAbort);
      };
      const onMessage = (m: FromWorker): void => {
        if (m.type === "event") onEvent(m.event);
        else if (m.type === "warn") this.warn(m.message);
        else if (m.type === "rung") void this.rungs.report(m.trial, m.rung, m.value).then((go) => child.connected && child.send({ type: "rung-reply", id: m.id, go } satisfies ToWorker));
        else if (m.type === "result") cleanup(), resolve(m.result);
        else cleanup(), reject(m.interrupted ? new Error(m.message) : new Error(m.message));
      };
      const onExit = (code: number | null, sig: string | null): void => {
        cleanup();
        reject(new WorkerDied(`exit ${code ?? sig}${stderr.trim() ? `: ${stderr.trim().split("\n").slice(-3).join(" | ")}` : ""}`));
      };
      child.on("message", onMessage);
      child.on("exit", onExit);
      child.stderr?.on("data", onErr);
      signal.addEventListener("abort", onAbort, { once: true });
      child.send({ type: "run", spec } satisfies ToWorker);
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.slots.map((s) => new Promise<void>((r) => {
      if (s.child.exitCode !== null || s.child.signalCode !== null) return r();
      s.child.once("exit", () => r());
      s.child.disconnect();
      setTimeout(() => s.child.kill("SIGKILL"), 10_000).unref();
    })));
  }
}

class WorkerDied extends Error {}
