import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { download } from "../../src/models/weights/download";
import { TlrunError } from "../../src/errors";
import { tempDir } from "../helpers";
import { serveFiles } from "./serve";

const bytes = randomBytes(300_000);
const sha256 = createHash("sha256").update(bytes).digest("hex");
const md5 = createHash("md5").update(bytes).digest("hex");
const fast = { backoffMs: 10, stallMs: 5000 };

test("first download fetches and checks the file; the second call makes no request", async (t) => {
  const srv = await serveFiles(t, { "/w.h5": bytes });
  const dest = join(tempDir(t), "cache", "w.h5");
  const seen: Array<[number, number | undefined]> = [];
  const first = await download({ url: srv.url("/w.h5"), dest, hash: sha256, onProgress: (r, n) => seen.push([r, n]), ...fast });
  assert.equal(first.downloaded, true);
  assert.deepEqual(readFileSync(dest), bytes);
  assert.ok(!existsSync(`${dest}.partial`));
  assert.deepEqual(seen.at(-1), [bytes.byteLength, bytes.byteLength]);
  const second = await download({ url: srv.url("/w.h5"), dest, hash: sha256, ...fast });
  assert.equal(second.downloaded, false);
  assert.equal(srv.requests.length, 1);
});

test("Keras' md5 file_hash values are accepted like get_file does", async (t) => {
  const srv = await serveFiles(t, { "/w.h5": bytes });
  const dest = join(tempDir(t), "w.h5");
  await download({ url: srv.url("/w.h5"), dest, hash: md5, ...fast });
  assert.deepEqual(readFileSync(dest), bytes);
});

test("a connection cut mid-file resumes with a Range request and is never cached half-done", async (t) => {
  const srv = await serveFiles(t, { "/w.h5": bytes });
  srv.script.push({ cutAfter: 100_000 });
  const dest = join(tempDir(t), "w.h5");
  await download({ url: srv.url("/w.h5"), dest, hash: sha256, ...fast });
  assert.deepEqual(readFileSync(dest), bytes);
  assert.equal(srv.requests.length, 2);
  assert.equal(srv.requests[0]!.range, undefined);
  assert.match(srv.requests[1]!.range ?? "", /^bytes=\d+-$/);
  assert.ok(Number(/\d+/.exec(srv.requests[1]!.range!)![0]) > 0, "the second request resumes past 0");
});

test("a partial file left by an earlier process is resumed", async (t) => {
  const srv = await serveFiles(t, { "/w.h5": bytes });
  const dest = join(tempDir(t), "w.h5");
  writeFileSync(`${dest}.partial`, bytes.subarray(0, 1234));
  await download({ url: srv.url("/w.h5"), dest, hash: sha256, ...fast });
  assert.deepEqual(readFileSync(dest), bytes);
  assert.deepEqual(srv.requests.map((r) => r.range), ["bytes=1234-"]);
});

test("a 503 is retried with backoff", async (t) => {
  const srv = await serveFiles(t, { "/w.h5": bytes });
  srv.script.push("503", "503");
  const dest = join(tempDir(t), "w.h5");
  await download({ url: srv.url("/w.h5"), dest, hash: sha256, ...fast });
  assert.equal(srv.requests.length, 3);
  assert.deepEqual(readFileSync(dest), bytes);
});

test("retries run out with a clear error", async (t) => {
  const srv = await serveFiles(t, { "/w.h5": bytes });
  srv.script.push("503", "503", "503");
  const dest = join(tempDir(t), "w.h5");
  await assert.rejects(download({ url: srv.url("/w.h5"), dest, hash: sha256, retries: 2, ...fast }), (e: Error) => e instanceof TlrunError && /failed after 3 attempts: HTTP 503/.test(e.message));
});

test("a hash mismatch is an error and the bad file is deleted", async (t) => {
  const srv = await serveFiles(t, { "/w.h5": bytes });
  const dest = join(tempDir(t), "w.h5");
  const wrong = "0".repeat(64);
  await assert.rejects(download({ url: srv.url("/w.h5"), dest, hash: wrong, ...fast }), (e: Error) => e instanceof TlrunError && e.message.includes(`expected ${wrong}, got ${sha256}`) && e.message.includes("deleted"));
  assert.ok(!existsSync(dest) && !existsSync(`${dest}.partial`));
});

test("a corrupted cached file is a cache miss: fetched again", async (t) => {
  const srv = await serveFiles(t, { "/w.h5": bytes });
  const dest = join(tempDir(t), "w.h5");
  await download({ url: srv.url("/w.h5"), dest, hash: sha256, ...fast });
  writeFileSync(dest, "garbage");
  const again = await download({ url: srv.url("/w.h5"), dest, hash: sha256, ...fast });
  assert.equal(again.downloaded, true);
  assert.deepEqual(readFileSync(dest), bytes);
});

test("404 and an HTML page are clear errors, not retried", async (t) => {
  const srv = await serveFiles(t, { "/w.h5": bytes });
  const dest = join(tempDir(t), "w.h5");
  await assert.rejects(download({ url: srv.url("/missing.h5"), dest, hash: sha256, ...fast }), /missing\.h5: HTTP 404/);
  srv.script.push("html");
  await assert.rejects(download({ url: srv.url("/w.h5"), dest, hash: sha256, ...fast }), /HTML page instead of the file/);
  assert.equal(srv.requests.length, 2);
  assert.ok(!existsSync(dest));
});

test("a server that stops sending mid-file is given up on, not waited for, and the download resumes", async (t) => {
  const srv = await serveFiles(t, { "/w.h5": bytes });
  const dest = join(tempDir(t), "w.h5");
  srv.script.push({ stallAfter: 1000 }, { stallAfter: 1000 });
  await assert.rejects(download({ url: srv.url("/w.h5"), dest, hash: sha256, retries: 1, backoffMs: 10, stallMs: 200 }),
    (e: Error) => e instanceof TlrunError && /failed after 2 attempts: .*no data received for too long/.test(e.message));
  assert.ok(!existsSync(dest), "never cached as complete");
  srv.script.push({ stallAfter: 50_000 });
  const r = await download({ url: srv.url("/w.h5"), dest, hash: sha256, retries: 2, backoffMs: 10, stallMs: 200 });
  assert.equal(readFileSync(r.path).equals(bytes), true);
  assert.deepEqual(srv.requests.slice(2).map((q) => q.range), ["bytes=2000-", "bytes=52000-"]);
});
