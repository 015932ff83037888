import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, readdirSync, readFileSync, truncateSync } from "node:fs";
import { join, resolve } from "node:path";
import { prepareArchitecture, loadArchitectureArtifacts } from "../../src/models/weights/prepare";
import { ARCHITECTURES } from "../../src/models/zoo";
import { tempDir } from "../helpers";
import { TINY_LAYERS, tinyArchitecture, writeKerasH5 } from "./h5-fixtures";
import { serveFiles } from "./serve";

const ROOT = resolve(__dirname, "../../..");

/** Call the synchronous `loadArtifacts` in another process (it blocks; our test server must keep serving). */
function loadInChild(model: string, weights: string, baseDir: string, env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  const script = `try { const a = require(${JSON.stringify(join(ROOT, "dist/src/models/source.js"))}).loadArtifacts(${JSON.stringify(model)}, ${JSON.stringify(baseDir)}, ${JSON.stringify(weights)}); console.log("OK " + a.weightSpecs.length); } catch (e) { console.log("ERR " + e.message); process.exitCode = 3; }`;
  return new Promise((done) => {
    const child = spawn(process.execPath, ["-e", script], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    child.on("close", (code) => done({ code, out }));
  });
}

test("weights: imagenet checks Keras' published md5; a file that fails it is deleted", async (t) => {
  const vgg = ARCHITECTURES.vgg16!;
  const srv = await serveFiles(t, { [`/vgg16/${vgg.imagenet.file}`]: randomBytes(50_000) });
  const cache = join(tempDir(t), "cache");
  const r = await loadInChild("vgg16", "imagenet", ROOT, { TLRUN_CACHE: cache, TLRUN_KERAS_WEIGHTS_MIRROR: srv.url("") });
  assert.equal(r.code, 3, r.out);
  assert.match(r.out, new RegExp(`ERR .*${vgg.imagenet.file}: md5 mismatch: expected ${vgg.imagenet.hash}, got [0-9a-f]{32}; the downloaded file was deleted`));
  assert.equal(srv.requests.length, 1);
  assert.deepEqual(readdirSync(join(cache, "weights")), []);
});

test("a truncated local .h5 for vgg16 fails with the file named, through the synchronous loader", async (t) => {
  const dir = tempDir(t);
  await writeKerasH5(join(dir, "w.h5"), TINY_LAYERS);
  truncateSync(join(dir, "w.h5"), 1500);
  const r = await loadInChild("vgg16", "w.h5", dir, { TLRUN_CACHE: join(dir, "cache") });
  assert.equal(r.code, 3, r.out);
  assert.match(r.out, /ERR .*w\.h5: truncated: the file has 1500 bytes/);
});

test("a URL#sha256 is downloaded once, converted once, and loads synchronously afterwards", async (t) => {
  const dir = tempDir(t);
  const h5 = join(dir, "src.h5");
  await writeKerasH5(h5, TINY_LAYERS, "model");
  const bytes = readFileSync(h5);
  const srv = await serveFiles(t, { "/tiny.h5": bytes });
  process.env.TLRUN_CACHE = join(dir, "cache");
  t.after(() => delete process.env.TLRUN_CACHE);
  const url = `${srv.url("/tiny.h5")}#sha256=${createHash("sha256").update(bytes).digest("hex")}`;
  const arch = tinyArchitecture();
  const first = await prepareArchitecture(arch, url, dir);
  const second = await prepareArchitecture(arch, url, dir);
  assert.equal(first, second);
  assert.equal(srv.requests.length, 1);
  const a = loadArchitectureArtifacts(arch, url, dir);
  assert.deepEqual(a.weightSpecs.map((s) => s.name), ["c1/kernel", "c1/bias", "c2/kernel", "c2/bias"]);
  assert.equal(new Float32Array(a.weightData)[1]!.toFixed(3), "0.001");
  assert.ok(existsSync(join(first, "weights.bin")));
});
