import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { commitDir, tempPathFor, writeFileAtomic } from "../util/atomic";
import { sha256 } from "../util/hash";
import type { EpochLogs } from "./callbacks";

/** A tensor's values on the host, as a checkpoint holds them. */
export interface HostTensor {
  shape: number[];
  dtype: "float32" | "int32";
  data: Float32Array | Int32Array;
}

/** One optimizer's state: named tensors (moments, beta powers, iterations), empty before its first step. */
export interface OptimizerState {
  names: string[];
  tensors: HostTensor[];
}

/** Which sets of training steps had compiled, so a resumed run steps exactly as an uninterrupted one (compiled-step.ts). */
export interface StepsState {
  /** Step keys seen once (their next step is recorded). */
  seen: string[];
  /** Per key: recorded but not yet checked, checked, or why it stays eager. */
  graphs: Record<string, "recorded" | "checked" | { refused: string }>;
  counts: { compiled: number; eager: number };
  reason?: string;
  /** The size of the first graph that passed its check. */
  ops?: number;
}

/** Everything fit() carries from one epoch to the next, after `epochsDone` epochs. */
export interface FitState {
  epochsDone: number;
  history: EpochLogs[];
  early: { best: number; bestEpoch: number; waited: number; stoppedEarly: boolean };
  /** The weights training changes, trainable or not (BatchNorm statistics), in FitSpec.state order. */
  weights: HostTensor[];
  /** The best epoch's trainable weights, kept for restore_best. */
  bestWeights?: HostTensor[];
  /** Per parameter group. */
  optimizers: OptimizerState[];
  /** Draws made by each dropout noise source, in FitSpec.noise order. */
  noise: number[];
  steps: StepsState;
}

/** Whose checkpoint it is: a checkpoint of another stage or cache key is never resumed from. */
export interface CheckpointOwner {
  stage: string;
  key: string;
}

const SEAL = "checkpoint.json";
const STATE = "state.json";
const TENSORS = "tensors.bin";
const FORMAT = 1;

interface Seal extends CheckpointOwner {
  format: number;
  epoch: number;
  files: Record<string, { size: number; sha256: string }>;
}

type Slot = Omit<HostTensor, "data"> & { offset: number; length: number };

/** Tensors to one byte buffer and the slots that find them again. */
function pack(state: FitState): { json: string; bin: Buffer } {
  const parts: Buffer[] = [];
  let offset = 0;
  const slot = (t: HostTensor): Slot => {
    const bytes = Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    parts.push(bytes);
    const s = { shape: t.shape, dtype: t.dtype, offset, length: t.data.length };
    offset += bytes.length;
    return s;
  };
  const json = JSON.stringify({
    ...state,
    weights: state.weights.map(slot),
    bestWeights: state.bestWeights?.map(slot),
    optimizers: state.optimizers.map((o) => ({ names: o.names, tensors: o.tensors.map(slot) })),
    // Infinity (no best yet) has no JSON form
    early: { ...state.early, best: String(state.early.best) },
  });
  return { json, bin: Buffer.concat(parts) };
}

function unpack(json: string, bin: Buffer): FitState {
  const raw = JSON.parse(json) as Omit<FitState, "weights" | "bestWeights" | "optimizers" | "early"> & {
    weights: Slot[]; bestWeights?: Slot[]; optimizers: Array<{ names: string[]; tensors: Slot[] }>; early: FitState["early"] & { best: string };
  };
  const tensor = (s: Slot): HostTensor => {
    const width = 4;
    if (s.offset + s.length * width > bin.length) throw new Error("tensors.bin is shorter than state.json says");
    const copy = new Uint8Array(bin.subarray(s.offset, s.offset + s.length * width)).buffer;
    return { shape: s.shape, dtype: s.dtype, data: s.dtype === "int32" ? new Int32Array(copy) : new Float32Array(copy) };
  };
  return {
    ...raw,
    weights: raw.weights.map(tensor),
    bestWeights: raw.bestWeights?.map(tensor),
    optimizers: raw.optimizers.map((o) => ({ names: o.names, tensors: o.tensors.map(tensor) })),
    early: { ...raw.early, best: Number(raw.early.best) },
  };
}

/**
 * Write `state` as the checkpoint at `dir`: into a temporary folder, sealed by checkpoint.json
 * (owner, epoch, each file's size and sha256), then renamed over the previous one, which is
 * removed only once the new one is in place. A kill at any point leaves one whole checkpoint.
 */
export function writeCheckpoint(dir: string, owner: CheckpointOwner, state: FitState): void {
  const { json, bin } = pack(state);
  const tmp = tempPathFor(dir);
  mkdirSync(tmp, { recursive: true });
  try {
    writeFileAtomic(join(tmp, TENSORS), bin);
    writeFileAtomic(join(tmp, STATE), json);
    const file = (data: string | Buffer) => ({ size: Buffer.byteLength(data), sha256: sha256(data) });
    const seal: Seal = { format: FORMAT, ...owner, epoch: state.epochsDone, files: { [STATE]: file(json), [TENSORS]: file(bin) } };
    writeFileAtomic(join(tmp, SEAL), JSON.stringify(seal, null, 2));
    commitDir(tmp, dir);
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
}

/** What reading a checkpoint found: none, a whole one of this owner, or why it cannot be used. */
export type CheckpointRead = { found: false } | { found: true; state: FitState } | { found: false; damaged: string };

/** Read the checkpoint at `dir`, checking its seal, owner and digests; never throws. */
export function readCheckpoint(dir: string, owner: CheckpointOwner): CheckpointRead {
  if (!existsSync(dir)) return { found: false };
  try {
    const seal = JSON.parse(readFileSync(join(dir, SEAL), "utf8")) as Seal;
    if (seal.format !== FORMAT) throw new Error(`format ${seal.format}, expected ${FORMAT}`);
    if (seal.stage !== owner.stage || seal.key !== owner.key) throw new Error(`it belongs to ${seal.stage}/${String(seal.key).slice(0, 12)}`);
    const read = (name: string): Buffer => {
      const data = readFileSync(join(dir, name));
      const want = seal.files?.[name];
      if (!want) throw new Error(`the seal does not list ${name}`);
      if (data.length !== want.size) throw new Error(`${name} is ${data.length} bytes, expected ${want.size}`);
      if (sha256(data) !== want.sha256) throw new Error(`${name} does not match its sha256`);
      return data;
    };
    const bin = read(TENSORS);
    const state = unpack(read(STATE).toString("utf8"), bin);
    if (state.epochsDone !== seal.epoch) throw new Error("state.json and the seal name different epochs");
    return { found: true, state };
  } catch (err) {
    return { found: false, damaged: (err as Error).message };
  }
}

/** Remove the checkpoint at `dir` (the stage's entry is committed, or it is unusable). */
export function removeCheckpoint(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
