/**
 * A queued job's data comes from whoever can write to Redis, so the worker reads it as untrusted
 * input: the shape is checked field by field before any value is used, and a job that does not
 * fit is refused with a reason instead of failing somewhere inside a run.
 */
import { isAbsolute } from "node:path";
import type { BackendChoice } from "../config/types";
import type { TrialSpec } from "./trial";

/** Why a worker would not run a job; recorded as the trial's error, and the job is not retried. */
export class JobRefused extends Error {}

/** What the sweep puts on the queue: the trial, and a signature when TLRUN_QUEUE_SECRET is set. */
export interface JobEnvelope {
  spec: TrialSpec;
  sig?: JobSignature;
}

export interface JobSignature {
  /** The BullMQ job id the spec was signed for: a signed spec replayed under another id is refused. */
  jobId: string;
  /** When it was signed (ISO 8601): a signature older than the jobs Redis keeps is refused. */
  at: string;
  /** HMAC-SHA256, hex, over the canonical JSON of {jobId, at, spec}. */
  mac: string;
}

const BACKENDS: readonly BackendChoice[] = ["auto", "native", "native-gpu", "wasm", "cpu"];
type Check = (v: unknown) => string | undefined;

const str: Check = (v) => (typeof v === "string" && v.length > 0 && v.length < 4096 && !v.includes("\0") ? undefined : "a non-empty string");
const absPath: Check = (v) => str(v) ?? (isAbsolute(v as string) ? undefined : "an absolute path");
const bool: Check = (v) => (typeof v === "boolean" ? undefined : "true or false");
const posInt: Check = (v) => (Number.isInteger(v) && (v as number) >= 1 ? undefined : "a whole number of at least 1");
const posNum: Check = (v) => (typeof v === "number" && Number.isFinite(v) && v > 0 ? undefined : "a positive number");
const strings: Check = (v) => (Array.isArray(v) && v.length < 1000 && v.every((s) => str(s) === undefined) ? undefined : "a list of strings");
const plainValue = (v: unknown, depth = 0): boolean =>
  v === null || ["string", "number", "boolean"].includes(typeof v) ||
  (depth < 4 && Array.isArray(v) && v.every((x) => plainValue(x, depth + 1))) ||
  (depth < 4 && isRecord(v) && Object.values(v).every((x) => plainValue(x, depth + 1)));
const assignment: Check = (v) => (isRecord(v) && Object.entries(v).every(([k, x]) => /^[A-Za-z0-9_.]+$/.test(k) && plainValue(x)) ? undefined : "an object of config paths to plain values");
const backend: Check = (v) => (BACKENDS.includes(v as BackendChoice) ? undefined : `one of ${BACKENDS.join(", ")}`);
const asha: Check = (v) => (isRecord(v) ? fields(v, { minEpochs: posInt, reductionFactor: posNum, maximize: bool }, []) : "an object");
const sweepId: Check = (v) => (typeof v === "string" && /^[A-Za-z0-9._-]{1,200}$/.test(v) ? undefined : "a sweep id (letters, digits, '.', '_', '-')");

const SPEC: Record<keyof TrialSpec, Check> = {
  sweepId, sweepDir: absPath, file: absPath, overrides: strings, runsDir: absPath, index: posInt,
  assignment, backend, metric: str, maximize: bool, asha,
};
const OPTIONAL: ReadonlyArray<keyof TrialSpec> = ["backend", "asha"];

const SIG: Record<keyof JobSignature, Check> = {
  jobId: str,
  at: (v) => str(v) ?? (Number.isFinite(Date.parse(v as string)) ? undefined : "an ISO 8601 time"),
  mac: (v) => (typeof v === "string" && /^[0-9a-f]{64}$/.test(v) ? undefined : "64 hex digits"),
};

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** The first problem with an object's fields: an unknown one, a missing one, or a wrong value. */
function fields(v: Record<string, unknown>, checks: Record<string, Check>, optional: readonly string[]): string | undefined {
  const unknown = Object.keys(v).find((k) => !(k in checks));
  if (unknown !== undefined) return `has an unknown field '${unknown.slice(0, 60)}'`;
  for (const [k, check] of Object.entries(checks)) {
    if (v[k] === undefined) {
      if (!optional.includes(k)) return `has no '${k}'`;
      continue;
    }
    const want = check(v[k]);
    if (want) return `'${k}' is not ${want}`;
  }
  return undefined;
}

/** The job's envelope and trial, checked; throws JobRefused naming the first field that is wrong. */
export function parseJob(data: unknown): JobEnvelope {
  if (!isRecord(data)) throw new JobRefused("refused: the job's data is not an object (a job from another program, or an older tlrun)");
  const outer = fields(data, { spec: (v) => (isRecord(v) ? undefined : "an object"), sig: (v) => (isRecord(v) ? undefined : "an object") }, ["sig"]);
  if (outer) throw new JobRefused(`refused: the job ${outer} (a job from another program, or an older tlrun)`);
  const problem = fields(data.spec as Record<string, unknown>, SPEC, OPTIONAL);
  if (problem) throw new JobRefused(`refused: the job's trial ${problem}`);
  const sigProblem = data.sig === undefined ? undefined : fields(data.sig as Record<string, unknown>, SIG, []);
  if (sigProblem) throw new JobRefused(`refused: the job's signature ${sigProblem}`);
  return data as unknown as JobEnvelope;
}
