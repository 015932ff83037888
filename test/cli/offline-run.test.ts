import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { createServer as createHttpServer } from "node:http";
import { createServer, type Socket } from "node:net";
import type { AddressInfo } from "node:net";
import { join, resolve } from "node:path";
import { TlrunError } from "../../src/errors";
import { weightsFile } from "../../src/models/weights/sources";
import { whyUnreachable } from "../../src/models/weights/reachable";
import { ARCHITECTURES } from "../../src/models/zoo";
import { checkWeightsFetchable } from "../../src/plan/fetchable";
import { serveFiles } from "../models/serve";
import { tempDir, tinyEmojiDataset } from "../helpers";

const BIN = join(resolve(__dirname, "../../.."), "bin/tlrun.js");

/** A port that was just free: nothing listens there, so connecting is refused. */
async function closedPort(): Promise<number> {
  const srv = createHttpServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const port = (srv.address() as AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

test("whyUnreachable: refused and silent servers are unreachable, a 404 has no file, a server with the file is fine", async (t) => {
  const refused = `http://127.0.0.1:${await closedPort()}/w.h5`;
  assert.match((await whyUnreachable(refused))!, /^127\.0\.0\.1:\d+ refused the connection \(ECONNREFUSED\)$/);
  const sockets: Socket[] = [];
  const silent = createServer((s) => void sockets.push(s)); // accepts, never answers
  await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
  t.after(() => (sockets.forEach((s) => s.destroy()), silent.close()));
  const start = Date.now();
  const why = await whyUnreachable(`http://127.0.0.1:${(silent.address() as AddressInfo).port}/w.h5`, 300);
  assert.match(why!, /did not answer within 0\.3 s; this machine looks offline/);
  assert.ok(Date.now() - start < 2000, `took ${Date.now() - start} ms`);
  const srv = await serveFiles(t, { "/w.h5": new Uint8Array(10) });
  assert.equal(await whyUnreachable(srv.url("/w.h5")), undefined);
  assert.match((await whyUnreachable(srv.url("/other.h5")))!, /has no such file \(HTTP 404\)/);
});

test("checkWeightsFetchable probes only weights still to download, and throws the offline paragraph", async (t) => {
  const srv = await serveFiles(t, {});
  const arch = ARCHITECTURES.vgg16!;
  const file = { ...weightsFile(arch, "imagenet", __dirname), url: srv.url("/vgg16.h5") };
  await checkWeightsFetchable({ ready: true, note: "", download: { arch, file } });
  await checkWeightsFetchable({ ready: false, note: "a local file or the embedded model" });
  assert.equal(srv.requests.length, 0, "nothing to fetch: no request");
  const err = await checkWeightsFetchable({ ready: false, note: "", download: { arch, file } }).then(() => undefined, (e: Error) => e);
  assert.ok(err instanceof TlrunError && err.exitCode === 1, String(err));
  assert.match(err.message, /^cannot download the vgg16 weights: 127\.0\.0\.1:\d+ has no such file \(HTTP 404\)\. It needs vgg16_weights_tf_dim_ordering_tf_kernels_notop\.h5 \(58\.9 MB\)/);
  assert.equal(srv.requests.length, 1);
});

test("run and sweep stop before any stage, with no run record, when the weights cannot be fetched", async (t) => {
  const root = tempDir(t);
  const data = tinyEmojiDataset(join(root, "data"), 2, ["flags", "food-drink"]);
  const mirror = `http://127.0.0.1:${await closedPort()}/keras`;
  const base = `name: offline\ndata: { dir: ${JSON.stringify(data)} }\nbase: { model: vgg16, weights: imagenet, input_size: [32, 32] }\nhead: { layers: [] }\nruntime: { runs_dir: runs }\n`;
  writeFileSync(join(root, "p.yaml"), base);
  writeFileSync(join(root, "s.yaml"), `${base}sweep:\n  max_trials: 2\n  parameters:\n    train.head.learning_rate: { values: [0.001, 0.01] }\n`);
  for (const args of [["run", "p.yaml"], ["sweep", "s.yaml"]]) {
    const start = Date.now();
    const r = spawnSync(process.execPath, [BIN, ...args], { cwd: root, encoding: "utf8", env: { ...process.env, CI: "true", TLRUN_CACHE: join(root, "cache"), TLRUN_KERAS_WEIGHTS_MIRROR: mirror } });
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /^tlrun: cannot download the vgg16 weights: 127\.0\.0\.1:\d+ refused the connection \(ECONNREFUSED\)\. It needs vgg16_weights_tf_dim_ordering_tf_kernels_notop\.h5/);
    assert.match(r.stderr, /tlrun weights import vgg16_weights_tf_dim_ordering_tf_kernels_notop\.h5 --model vgg16/);
    assert.doesNotMatch(r.stderr, /dataset|prepare|✔|✖/, `${args[0]}: no stage started`);
    assert.equal(r.stderr.trim().split("\n").length, 1, "one paragraph");
    assert.equal(existsSync(join(root, "runs")), false, `${args[0]}: no run record`);
    assert.ok(Date.now() - start < 5000, `${args[0]} took ${Date.now() - start} ms`);
  }
});
