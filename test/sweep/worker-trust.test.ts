/**
 * What a `tlrun worker` agrees to run (src/sweep/worker-trust.ts, job-spec.ts, job-signature.ts)
 * and how it reaches a Redis with a password or TLS (redis-url.ts). The first tests are pure and
 * fast; the last starts a real redis-server with requirepass (and TLS, when the build has it),
 * real workers and real sweeps, and is skipped when TLRUN_FAST is set.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { JobRefused, parseJob } from "../../src/sweep/job-spec";
import { envelope, verify } from "../../src/sweep/job-signature";
import { connectOptions, redactText, redactUrl } from "../../src/sweep/redis-url";
import { admitJob, allowedRoots, CHECKED_CONFIG_PATHS, checkTrialPaths, realPathOf, requireWithin } from "../../src/sweep/worker-trust";
import type { TrialSpec } from "../../src/sweep/trial";
import { freePort } from "../../src/tracking/local-server";
import { loadState } from "../../src/sweep/record";
import type { SweepOutcome } from "../../src/sweep/run";
import { tempDir, tinyEmojiDataset, tinyPipeline, writeTree } from "../helpers";

const ROOT = resolve(__dirname, "../../..");
const BIN = join(ROOT, "bin/tlrun.js");

function specIn(dir: string, extra: Partial<TrialSpec> = {}): TrialSpec {
  return {
    sweepId: "20260101-000000-tiny-sweep-abcd", sweepDir: join(dir, "runs", "sweep"), file: join(dir, "p.yaml"), overrides: [],
    runsDir: join(dir, "runs"), index: 1, assignment: { "train.head.learning_rate": 0.01 }, metric: "val_accuracy", maximize: true, ...extra,
  };
}

const refused = (re: RegExp) => (err: unknown): boolean => err instanceof JobRefused && re.test(err.message);

test("a job's shape is checked field by field: unknown fields and wrong types are refused, not a crash", () => {
  const spec = specIn("/srv/sweeps", { asha: { minEpochs: 1, reductionFactor: 3, maximize: true }, backend: "cpu" });
  assert.deepEqual(parseJob({ spec }).spec, spec);
  assert.throws(() => parseJob("run me"), refused(/not an object/));
  assert.throws(() => parseJob(spec), refused(/unknown field 'sweepId'/)); // a bare spec, as an older tlrun queued it
  assert.throws(() => parseJob({ spec, extra: 1 }), refused(/unknown field 'extra'/));
  assert.throws(() => parseJob({ spec: { ...spec, shell: "rm -rf /" } }), refused(/trial has an unknown field 'shell'/));
  assert.throws(() => parseJob({ spec: { ...spec, index: "1" } }), refused(/'index' is not a whole number/));
  assert.throws(() => parseJob({ spec: { ...spec, overrides: "data.dir=/etc" } }), refused(/'overrides' is not a list of strings/));
  assert.throws(() => parseJob({ spec: { ...spec, file: "p.yaml" } }), refused(/'file' is not an absolute path/));
  assert.throws(() => parseJob({ spec: { ...spec, backend: "gpu" } }), refused(/'backend' is not one of auto/));
  assert.throws(() => parseJob({ spec: { ...spec, asha: { minEpochs: 1 } } }), refused(/'asha' is not/));
  assert.throws(() => parseJob({ spec: { ...spec, assignment: { "a b": 1 } } }), refused(/'assignment'/));
  const { metric: _, ...noMetric } = spec;
  assert.throws(() => parseJob({ spec: noMetric }), refused(/has no 'metric'/));
  assert.throws(() => parseJob({ spec, sig: { jobId: "j", at: "yesterday", mac: "00" } }), refused(/signature 'at' is not an ISO/));
});

test("signed jobs: the worker with the secret runs only jobs signed with it for that job id, lately", () => {
  const spec = specIn("/srv/sweeps");
  const secret = "s3cret";
  const signed = parseJob(JSON.parse(JSON.stringify(envelope(spec, "job-1", secret))));
  const never = (): void => assert.fail("a worker with a secret checks");
  verify(signed, "job-1", secret, never);
  assert.throws(() => verify(parseJob({ spec }), "job-1", secret, never), refused(/not signed/));
  assert.throws(() => verify(signed, "job-1", "other", never), refused(/does not match/));
  assert.throws(() => verify({ ...signed, spec: { ...spec, overrides: ["data.dir=/etc"] } }, "job-1", secret, never), refused(/does not match/));
  assert.throws(() => verify(signed, "job-2", secret, never), refused(/signed as job job-1 but queued as job-2/));
  const old = envelope(spec, "job-1", secret, new Date(Date.now() - 8 * 24 * 3600_000));
  assert.throws(() => verify(old, "job-1", secret, never), refused(/more than 7 days ago/));
  const future = envelope(spec, "job-1", secret, new Date(Date.now() + 3600_000));
  assert.throws(() => verify(future, "job-1", secret, never), refused(/in the future/));
  // A worker without a secret runs signed and unsigned jobs, and is told a signed one went unchecked.
  let told = 0;
  verify(signed, "job-1", undefined, () => told++);
  verify(parseJob({ spec }), "job-1", undefined, () => told++);
  assert.equal(told, 1);
  assert.equal(envelope(spec, "job-1", undefined).sig, undefined);
});

test("paths are checked by their real path: a symbolic link out of an allowed folder is refused, missing folders are judged by their parent", (t) => {
  const base = tempDir(t, "tlrun-trust-");
  mkdirSync(join(base, "root", "runs"), { recursive: true });
  mkdirSync(join(base, "outside", "data"), { recursive: true });
  symlinkSync(join(base, "outside"), join(base, "root", "link"));
  symlinkSync(join(base, "nowhere"), join(base, "root", "dangling"));
  const [root] = allowedRoots([join(base, "root")]);
  requireWithin("runs folder", join(base, "root", "runs"), [root!]);
  requireWithin("runs folder", join(base, "root", "runs", "not", "yet"), [root!]);
  assert.throws(() => requireWithin("data folder", join(base, "outside", "data"), [root!]), refused(/data folder .* is outside this worker's allowed folders/));
  assert.throws(() => requireWithin("data folder", join(base, "root", "link", "data"), [root!]), refused(/really .*outside\/data\)? is outside|\(really .*outside\/data\) is outside/));
  assert.throws(() => requireWithin("runs folder", join(base, "root", "link", "new", "runs"), [root!]), refused(/outside/));
  assert.throws(() => requireWithin("runs folder", join(base, "root", "dangling", "runs"), [root!]), refused(/symbolic link to a missing path/));
  assert.throws(() => requireWithin("runs folder", join(base, "root") + "/../outside", [root!]), refused(/without '\.\.'/));
  assert.throws(() => requireWithin("runs folder", `${root}-sibling`, [root!]), refused(/outside/)); // a prefix is not a parent
  assert.equal(realPathOf(join(base, "root", "link", "x", "y")), join(realPathOf(join(base, "outside")), "x", "y"));
  assert.throws(() => allowedRoots([join(base, "missing")]), /--allow .*no such folder/);
  assert.deepEqual(allowedRoots([], join(base, "root")), [root]);
});

test("a job's config paths are checked after its --set overrides and assignment: data.dir, base.model, base.weights", (t) => {
  const base = tempDir(t, "tlrun-trust-");
  writeTree(base, { "root/p.yaml": tinyPipeline("data", "runs"), "root/data/a/x.png": "", "root/data/b/y.png": "" });
  const root = allowedRoots([join(base, "root")]);
  const dir = join(realPathOf(base), "root");
  checkTrialPaths(specIn(dir), root);
  assert.throws(() => checkTrialPaths(specIn(dir, { overrides: ["data.dir=/etc"] }), root), refused(/data folder \(data\.dir\) \/etc is outside/));
  assert.throws(() => checkTrialPaths(specIn(dir, { assignment: { "data.dir": "../.." } }), root), refused(/data folder/));
  assert.throws(() => checkTrialPaths(specIn(dir, { overrides: ["base.model=/opt/model/model.json"] }), root), refused(/base model \(base\.model\)/));
  assert.throws(() => checkTrialPaths(specIn(dir, { overrides: ["base.model=vgg16", "base.weights=/home/x/w.h5"] }), root), refused(/weights file \(base\.weights\)/));
  checkTrialPaths(specIn(dir, { overrides: ["base.model=vgg16", "base.weights=imagenet"] }), root);
  assert.throws(() => checkTrialPaths(specIn(dir, { file: "/etc/passwd" }), root), refused(/pipeline file \/etc\/passwd is outside/));
  assert.throws(() => checkTrialPaths(specIn(dir, { runsDir: "/tmp" }), root), refused(/runs folder \/tmp is outside/));
  assert.throws(() => checkTrialPaths(specIn(dir, { sweepDir: "/var/tmp/sweep" }), root), refused(/sweep folder/));
  // The signature is checked before any file the job names is read.
  assert.throws(() => admitJob({ spec: specIn(dir, { file: "/etc/shadow" }) }, "j", root, "secret", () => undefined), refused(/not signed/));
});

test("every config value the schema calls a path relative to the YAML file is one the worker checks", () => {
  const schema = JSON.parse(readFileSync(join(ROOT, "schemas/pipeline.schema.json"), "utf8")) as Record<string, unknown>;
  const found: string[] = [];
  const walk = (node: any, path: string): void => {
    if (!node || typeof node !== "object") return;
    if (typeof node.description === "string" && /relative to the YAML file/i.test(node.description) && path) found.push(path);
    for (const [k, v] of Object.entries(node.properties ?? {})) walk(v, path ? `${path}.${k}` : k);
  };
  walk(schema, "");
  assert.ok(found.length >= 3, found.join(", "));
  assert.deepEqual(found.filter((p) => !CHECKED_CONFIG_PATHS.includes(p)), []);
});

test("Redis URLs are printed without their password; TLS takes its CA from TLRUN_REDIS_CA", (t) => {
  assert.equal(redactUrl("redis://:p%40ss@host:6379/2"), "redis://:***@host:6379/2");
  assert.equal(redactUrl("rediss://alice:pw@host:6380"), "rediss://alice:***@host:6380");
  assert.equal(redactUrl("redis://token@host"), "redis://***@host");
  assert.equal(redactUrl("redis://host:6379"), "redis://host:6379");
  const url = "redis://:p%40ss@host:6379";
  assert.equal(redactText(`cannot use ${url}: AUTH p@ss failed, p%40ss`, url, {}), "cannot use redis://:***@host:6379: AUTH *** failed, ***");
  assert.equal(redactText("AUTH envpw failed", "redis://host", { TLRUN_REDIS_PASSWORD: "envpw" }), "AUTH *** failed");
  assert.deepEqual(connectOptions("redis://host:1", {}), {});
  assert.deepEqual(connectOptions("redis://host:1", { TLRUN_REDIS_PASSWORD: "pw" }), { password: "pw" });
  assert.deepEqual(connectOptions("redis://:inurl@host:1", { TLRUN_REDIS_PASSWORD: "pw" }), {}, "the URL's password wins");
  assert.deepEqual(connectOptions("rediss://host:1", {}), { tls: {} });
  const ca = join(tempDir(t, "tlrun-trust-"), "ca.pem");
  writeFileSync(ca, "-----BEGIN CERTIFICATE-----\n");
  assert.equal(connectOptions("rediss://host:1", { TLRUN_REDIS_CA: ca }).tls?.ca?.toString(), "-----BEGIN CERTIFICATE-----\n");
  assert.throws(() => connectOptions("rediss://host:1", { TLRUN_REDIS_CA: `${ca}.missing` }), /cannot read the CA file/);
  assert.throws(() => connectOptions("redis://host:1", { TLRUN_REDIS_CA: ca }), /write rediss:\/\//);
  assert.throws(() => connectOptions("http://:pw@host:1", {}), (err: Error) => /--queue takes a Redis URL/.test(err.message) && !err.message.includes("pw@"));
});
