/**
 * Signed jobs: with TLRUN_QUEUE_SECRET set on the sweep and the workers, a job carries an
 * HMAC-SHA256 of its spec, its job id and the time it was signed, so that someone who can reach
 * Redis but does not hold the secret cannot queue work. The secret comes from the environment
 * only, never a flag, so it is not in `ps` or a shell's history.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { canonicalJson } from "../util/hash";
import { JobRefused, type JobEnvelope, type JobSignature } from "./job-spec";
import type { TrialSpec } from "./trial";

/** The environment variable that holds the shared secret. */
export const SECRET_ENV = "TLRUN_QUEUE_SECRET";

/** How old a signature may be: as long as Redis keeps a finished job, so an old job id cannot be reused. */
export const MAX_AGE_MS = 7 * 24 * 3600_000;
/** Clocks of different machines disagree a little. */
const SKEW_MS = 5 * 60_000;

/** The shared secret from the environment, or undefined when unset or empty. */
export function secretFrom(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return env[SECRET_ENV] || undefined;
}

function mac(secret: string, jobId: string, at: string, spec: TrialSpec): string {
  // Through JSON first, as the job will travel: fields set to undefined disappear on both sides.
  const plain = JSON.parse(JSON.stringify(spec)) as unknown;
  return createHmac("sha256", secret).update(canonicalJson({ at, jobId, spec: plain })).digest("hex");
}

/** The job's data for `spec`, signed for `jobId` when there is a secret. */
export function envelope(spec: TrialSpec, jobId: string, secret: string | undefined, now = new Date()): JobEnvelope {
  if (!secret) return { spec };
  const at = now.toISOString();
  return { spec, sig: { jobId, at, mac: mac(secret, jobId, at, spec) } };
}

/**
 * Check a job's signature against the worker's secret; throws JobRefused. A worker without a
 * secret checks nothing and says so (`unchecked` is called for a signed job it cannot check).
 */
export function verify(job: JobEnvelope, jobId: string, secret: string | undefined, unchecked: () => void, now = Date.now()): void {
  if (!secret) {
    if (job.sig) unchecked();
    return;
  }
  const sig: JobSignature | undefined = job.sig;
  if (!sig) throw new JobRefused(`refused: the job is not signed, and this worker runs only jobs signed with ${SECRET_ENV}; set the same ${SECRET_ENV} where 'tlrun sweep' runs`);
  const want = Buffer.from(mac(secret, sig.jobId, sig.at, job.spec), "hex");
  const got = Buffer.from(sig.mac, "hex");
  if (got.length !== want.length || !timingSafeEqual(got, want))
    throw new JobRefused(`refused: the job's signature does not match this worker's ${SECRET_ENV} (a different secret, or a job changed after it was signed)`);
  if (sig.jobId !== jobId) throw new JobRefused(`refused: the job was signed as job ${sig.jobId} but queued as ${jobId} (a replayed job)`);
  const age = now - Date.parse(sig.at);
  if (age > MAX_AGE_MS || age < -SKEW_MS) throw new JobRefused(`refused: the job was signed at ${sig.at}, ${age < 0 ? "in the future" : "more than 7 days ago"} (a replayed job, or a clock far off)`);
}
