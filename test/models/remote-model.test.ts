/**
 * `base.model: https://…/model.json`: a tfjs LayersModel downloaded with its shards into the
 * shared cache, pinned or recorded by sha256, and refused when its weight paths leave its folder.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { TlrunError } from "../../src/errors";
import { saveModel } from "../../src/models/io";
import { isRemoteModelCached, remoteModelRef } from "../../src/models/remote-model";
import { describeBase, loadArtifacts, prepareBase } from "../../src/models/source";
import { tempDir, tinyEmojiDataset, tinyPipeline } from "../helpers";
import { serveFiles } from "./serve";

const ROOT = resolve(__dirname, "../../..");
const sha = (b: Uint8Array): string => createHash("sha256").update(b).digest("hex");
const isError = (re: RegExp) => (e: Error) => e instanceof TlrunError && re.test(e.message);

/** A small tfjs LayersModel folder (two convolutions, weights in one shard), as files to serve. */
async function layersModelFiles(dir: string): Promise<{ json: Buffer; bin: Buffer }> {
  const input = tf.input({ shape: [8, 8, 3], name: "input_1" });
  const c1 = tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: "same", activation: "relu", name: "c1", kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }).apply(input);
  const c2 = tf.layers.conv2d({ filters: 2, kernelSize: 3, padding: "same", name: "c2", kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }).apply(c1) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: c2 });
  await saveModel(model, dir);
  model.dispose();
  return { json: readFileSync(join(dir, "model.json")), bin: readFileSync(join(dir, "weights.bin")) };
}

/** The CLI in a child process, without blocking this process' test server. */
function cli(args: string[], env: NodeJS.ProcessEnv): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [join(ROOT, "bin/tlrun.js"), ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("close", (status) => done({ status, stdout, stderr }));
  });
}

function withCache(t: import("node:test").TestContext, dir: string): string {
  const cache = join(dir, "cache");
  process.env.TLRUN_CACHE = cache;
  t.after(() => delete process.env.TLRUN_CACHE);
  return cache;
}

test("a model.json URL pinned by sha256 is downloaded with its shard once and loads like the local folder", async (t) => {
  const dir = tempDir(t);
  withCache(t, dir);
  const { json, bin } = await layersModelFiles(join(dir, "local"));
  const srv = await serveFiles(t, { "/m/model.json": json, "/m/weights.bin": bin });
  const url = `${srv.url("/m/model.json")}#sha256=${sha(json)}`;
  assert.equal(describeBase(url, "", dir).offline, false);
  assert.match(describeBase(url, "", dir).note, /must be downloaded from http:\/\/127\.0\.0\.1:\d+\/m\/model\.json .*checked against its pinned sha256/);
  await prepareBase(url, dir, "");
  await prepareBase(url, dir, "");
  assert.deepEqual(srv.requests.map((r) => r.path), ["/m/model.json", "/m/weights.bin"], "the second prepare makes no request");
  assert.ok(isRemoteModelCached(remoteModelRef(url)!));
  const remote = loadArtifacts(url, dir);
  const local = loadArtifacts(join(dir, "local"), dir);
  assert.equal(remote.weightsSha256, local.weightsSha256);
  assert.equal(remote.origin, srv.url("/m/model.json"));
  const d = describeBase(url, "", dir);
  assert.equal(d.offline, true);
  assert.equal(d.weightsId, local.weightsSha256);
});

test("an unpinned model URL has its sha256 recorded on first download; a pinned one that differs is deleted", async (t) => {
  const dir = tempDir(t);
  withCache(t, dir);
  const { json, bin } = await layersModelFiles(join(dir, "local"));
  const srv = await serveFiles(t, { "/m/model.json": json, "/m/weights.bin": bin, "/n/model.json": json, "/n/weights.bin": bin });
  const url = srv.url("/m/model.json");
  assert.match(describeBase(url, "", dir).note, /its sha256 is recorded on first download \(pin it with #sha256=<hex>\)/);
  await prepareBase(url, dir, "");
  const r = remoteModelRef(url)!;
  const stamp = JSON.parse(readFileSync(join(r.dir, "model.json.verified.json"), "utf8")) as { sha256: string };
  assert.equal(stamp.sha256, sha(json));
  const wrong = `${srv.url("/n/model.json")}#sha256=${"0".repeat(64)}`;
  await assert.rejects(prepareBase(wrong, dir, ""), isError(/n\/model\.json: sha256 mismatch: expected 0{64}, got [0-9a-f]{64}; the downloaded file was deleted/));
  assert.ok(!existsSync(join(remoteModelRef(wrong)!.dir, "model.json")));
});

test("weight paths that leave the model's folder are refused, naming the model.json", async (t) => {
  const dir = tempDir(t);
  withCache(t, dir);
  const { json, bin } = await layersModelFiles(join(dir, "local"));
  const withPath = (p: string): Buffer => {
    const m = JSON.parse(json.toString()) as { weightsManifest: Array<{ paths: string[] }> };
    m.weightsManifest[0]!.paths = [p];
    return Buffer.from(JSON.stringify(m));
  };
  const cases: Array<[string, RegExp]> = [
    ["../secret.bin", /leaves the model's folder \(\.\.\); refused/],
    ["/etc/weights.bin", /is an absolute path; refused/],
    ["http://other.example/w.bin", /points at another location \(a URL\); refused/],
    ["sub/../../w.bin", /leaves the model's folder \(\.\.\); refused/],
  ];
  const files: Record<string, Uint8Array> = { "/secret.bin": bin };
  cases.forEach(([p], i) => (files[`/m${i}/model.json`] = withPath(p)));
  const srv = await serveFiles(t, files);
  for (const [i, [p, re]] of cases.entries()) {
    const url = srv.url(`/m${i}/model.json`);
    await assert.rejects(prepareBase(url, dir, ""), (e: Error) => e instanceof TlrunError && e.message.includes(`${url}: weight path '${p}'`) && re.test(e.message), p);
  }
  assert.ok(!srv.requests.some((r) => r.path === "/secret.bin"), "nothing outside the folder was fetched");
  // the same on disk
  const local = join(dir, "escape");
  mkdirSync(local);
  writeFileSync(join(local, "model.json"), withPath("../local/weights.bin"));
  assert.throws(() => loadArtifacts(local, dir), isError(/escape\/model\.json: weight path '\.\.\/local\/weights\.bin' leaves the model folder; refused/));
});

test("an HTML page instead of model.json, and a shard cut off halfway: clear errors or a resumed download, never a bad cache entry", async (t) => {
  const dir = tempDir(t);
  withCache(t, dir);
  const { json, bin } = await layersModelFiles(join(dir, "local"));
  const srv = await serveFiles(t, { "/m/model.json": json, "/m/weights.bin": bin });
  const url = srv.url("/m/model.json");
  srv.script.push("html");
  await assert.rejects(prepareBase(url, dir, ""), isError(/m\/model\.json: the server sent an HTML page instead of the file/));
  // model.json, then the shard cut after 100 bytes: resumed from there with a Range request
  srv.script.push("serve", { cutAfter: 100 });
  await prepareBase(url, dir, "");
  const shard = srv.requests.filter((r) => r.path === "/m/weights.bin");
  assert.equal(shard.length, 2);
  assert.equal(shard[1]!.range, "bytes=100-");
  assert.equal(loadArtifacts(url, dir).weightsSha256, loadArtifacts(join(dir, "local"), dir).weightsSha256);
});

test("shards that do not match the weightsManifest are an error and are not kept", async (t) => {
  const dir = tempDir(t);
  withCache(t, dir);
  const { json, bin } = await layersModelFiles(join(dir, "local"));
  const srv = await serveFiles(t, { "/m/model.json": json, "/m/weights.bin": bin.subarray(0, bin.byteLength - 8) });
  const url = srv.url("/m/model.json");
  await assert.rejects(prepareBase(url, dir, ""), isError(new RegExp(`m/model\\.json: its shards hold ${bin.byteLength - 8} bytes but the weightsManifest describes ${bin.byteLength}`)));
  assert.equal(isRemoteModelCached(remoteModelRef(url)!), false);
});

test("the synchronous loader downloads a model URL in a child process", async (t) => {
  const dir = tempDir(t);
  const cache = join(dir, "cache");
  const { json, bin } = await layersModelFiles(join(dir, "local"));
  const srv = await serveFiles(t, { "/m/model.json": json, "/m/weights.bin": bin });
  const url = `${srv.url("/m/model.json")}#sha256=${sha(json)}`;
  const script = `try { const a = require(${JSON.stringify(join(ROOT, "dist/src/models/source.js"))}).loadArtifacts(${JSON.stringify(url)}, "/"); console.log("OK " + a.weightSpecs.length); } catch (e) { console.log("ERR " + e.message); process.exitCode = 3; }`;
  const out = await new Promise<string>((done) => {
    const child = spawn(process.execPath, ["-e", script], { env: { ...process.env, TLRUN_CACHE: cache }, stdio: ["ignore", "pipe", "pipe"] });
    let s = "";
    child.stdout.on("data", (d) => (s += d));
    child.on("close", () => done(s));
  });
  assert.match(out, /OK 4/);
  assert.equal(srv.requests.length, 2);
});

test("`tlrun plan` fetches only model.json (to check freeze.at) and says the shards must be downloaded", async (t) => {
  const dir = tempDir(t);
  const { json, bin } = await layersModelFiles(join(dir, "local"));
  const srv = await serveFiles(t, { "/m/model.json": json, "/m/weights.bin": bin });
  const data = tinyEmojiDataset(join(dir, "data"), 2);
  const yaml = tinyPipeline(data, join(dir, "runs")).replace("model: mobilenet_v2", `model: ${srv.url("/m/model.json")}`);
  writeFileSync(join(dir, "p.yaml"), yaml.replace("at: block_16_expand", "at: c2"));
  const env = { ...process.env, TLRUN_CACHE: join(dir, "cache") };
  const plan = await cli(["plan", join(dir, "p.yaml")], env);
  assert.equal(plan.status, 0, plan.stderr);
  assert.match(plan.stdout, /the model must be downloaded from http:\/\/127\.0\.0\.1:\d+\/m\/model\.json .*\(NOT available offline\)/);
  assert.deepEqual(srv.requests.map((r) => r.path), ["/m/model.json"]);
  writeFileSync(join(dir, "p.yaml"), yaml.replace("at: block_16_expand", "at: c3"));
  const typo = await cli(["validate", join(dir, "p.yaml")], env);
  assert.equal(typo.status, 2);
  assert.match(typo.stdout + typo.stderr, /p\.yaml:\d+:\d+: error: freeze\.at 'c3' is not a layer .*of the base model \(3 layers\)\n.*did you mean 'c1' or 'c2'/);
});

test("the weights fetch is a stage: plan says it will fetch, run fetches it, the next plan finds it present", async (t) => {
  const dir = tempDir(t);
  const { json, bin } = await layersModelFiles(join(dir, "local"));
  const srv = await serveFiles(t, { "/m/model.json": json, "/m/weights.bin": bin });
  const data = tinyEmojiDataset(join(dir, "data"), 2);
  const yaml = tinyPipeline(data, join(dir, "runs")).replace("model: mobilenet_v2", `model: ${srv.url("/m/model.json")}#sha256=${sha(json)}`);
  writeFileSync(join(dir, "p.yaml"), yaml.replace("at: block_16_expand", "at: c2"));
  const env = { ...process.env, TLRUN_CACHE: join(dir, "cache") };
  const before = await cli(["plan", join(dir, "p.yaml"), "--json"], env);
  const weightsOf = (out: string) => (JSON.parse(out) as { stages: Array<{ name: string; source: boolean; cached: boolean }> }).stages.find((s) => s.name === "weights")!;
  assert.deepEqual(weightsOf(before.stdout), { ...weightsOf(before.stdout), source: true, cached: false });
  const run = await cli([join(dir, "p.yaml"), "--json"], env);
  assert.equal(run.status, 0, run.stderr);
  assert.equal(weightsOf(run.stdout).cached, false, "the run fetched the weights as its weights stage");
  assert.deepEqual(srv.requests.map((r) => r.path).slice(-2), ["/m/model.json", "/m/weights.bin"]);
  const after = await cli(["plan", join(dir, "p.yaml")], env);
  assert.match(after.stdout, /weights\s+present/);
  assert.match(after.stdout, /extract\s+cached/);
});
