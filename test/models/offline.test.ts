import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readdirSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join, resolve } from "node:path";
import { TlrunError } from "../../src/errors";
import { download, Unreachable } from "../../src/models/weights/download";
import { prepareArchitecture } from "../../src/models/weights/prepare";
import { ARCHITECTURES } from "../../src/models/zoo";
import { tempDir, tinyEmojiDataset } from "../helpers";
import { serveFiles } from "./serve";

const ROOT = resolve(__dirname, "../../..");
const BIN = join(ROOT, "bin/tlrun.js");
/** .invalid never resolves (RFC 2606), so this is a machine without DNS for that host. */
const OFFLINE = "http://tlrun-offline.invalid/keras";

/** A port that was just free: nothing listens there, so connecting is refused. */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const port = (srv.address() as AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

test("an unresolvable host fails at once, without retries, and keeps nothing", async (t) => {
  const dest = join(tempDir(t), "w.h5");
  const start = Date.now();
  await assert.rejects(download({ url: `${OFFLINE}/w.h5`, dest, hash: "0".repeat(64), backoffMs: 1000 }), (e: Error) => e instanceof Unreachable && /tlrun-offline\.invalid cannot be resolved/.test(e.message));
  assert.ok(Date.now() - start < 2000, `took ${Date.now() - start} ms`);
  assert.ok(!existsSync(dest));
});

test("a refused connection fails at once; a 503 from a server that answers is still retried", async (t) => {
  const port = await closedPort();
  const dest = join(tempDir(t), "w.h5");
  const start = Date.now();
  await assert.rejects(download({ url: `http://127.0.0.1:${port}/w.h5`, dest, hash: "0".repeat(64), backoffMs: 1000 }), (e: Error) => e instanceof Unreachable && /refused the connection \(ECONNREFUSED\)/.test(e.message));
  assert.ok(Date.now() - start < 2000, `took ${Date.now() - start} ms`);
  const bytes = randomBytes(1000);
  const srv = await serveFiles(t, { "/w.h5": bytes });
  srv.script.push("503");
  await assert.rejects(download({ url: srv.url("/w.h5"), dest, hash: "0".repeat(64), backoffMs: 10 }), (e: Error) => e instanceof TlrunError && !(e instanceof Unreachable) && /mismatch/.test(e.message));
  assert.equal(srv.requests.length, 2, "the 503 was retried");
});

test("offline imagenet weights: one paragraph with the file, its hash, the cache path, the mirror, base.weights and mobilenet_v2", async (t) => {
  const cache = join(tempDir(t), "cache");
  process.env.TLRUN_CACHE = cache;
  process.env.TLRUN_KERAS_WEIGHTS_MIRROR = OFFLINE;
  t.after(() => {
    delete process.env.TLRUN_CACHE;
    delete process.env.TLRUN_KERAS_WEIGHTS_MIRROR;
  });
  const vgg = ARCHITECTURES.vgg16!;
  const start = Date.now();
  const err = await prepareArchitecture(vgg, "imagenet", ROOT).then(() => undefined, (e: Error) => e);
  assert.ok(Date.now() - start < 2000, `took ${Date.now() - start} ms`);
  assert.ok(err instanceof TlrunError && err.exitCode === 1, String(err));
  const m = err.message;
  assert.doesNotMatch(m, /\n/, "one paragraph");
  for (const part of [vgg.imagenet.file, "58.9 MB", `md5 ${vgg.imagenet.hash}`, join(cache, "weights", vgg.imagenet.file), "TLRUN_KERAS_WEIGHTS_MIRROR", "base.weights:", "mobilenet_v2", "nsfwjs"])
    assert.ok(m.includes(part), `${part} missing from: ${m}`);
  assert.deepEqual(readdirSync(join(cache, "weights")), []);
});

test("tlrun run offline: exit 1 in under 2 s with the paragraph and no stack trace", async (t) => {
  const root = tempDir(t);
  const data = tinyEmojiDataset(join(root, "data"), 2, ["flags", "food-drink"]);
  const file = join(root, "p.yaml");
  writeFileSync(file, `name: offline\ndata: { dir: ${JSON.stringify(data)} }\nbase: { model: vgg16, weights: imagenet, input_size: [32, 32] }\nhead: { layers: [] }\nruntime: { runs_dir: ${JSON.stringify(join(root, "runs"))} }\n`);
  const start = Date.now();
  const r = spawnSync(process.execPath, [BIN, "run", file], { cwd: root, encoding: "utf8", env: { ...process.env, CI: "true", TLRUN_CACHE: join(root, "cache"), TLRUN_KERAS_WEIGHTS_MIRROR: OFFLINE } });
  const took = Date.now() - start;
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /cannot download the vgg16 weights: tlrun-offline\.invalid cannot be resolved/);
  assert.match(r.stderr, /mobilenet_v2` without base\.weights needs no download/);
  assert.doesNotMatch(r.stderr, /\n\s+at /, "no stack trace");
  assert.ok(took < 2000 + 1500, `took ${took} ms`); // < 2 s for the download, plus node and tfjs starting
});
