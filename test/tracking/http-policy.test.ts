/**
 * The client's retry policy against a small HTTP server of our own: this checks how tlrun reacts
 * to status codes and bodies, not MLflow itself (that is mlflow-server.test.ts).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { call, MlflowError } from "../../src/tracking/http";
import { serverFromEnv } from "../../src/tracking/settings";
import { freePort } from "../../src/tracking/local-server";

async function withServer(handler: (req: IncomingMessage, res: ServerResponse, n: number) => void, fn: (uri: string, hits: () => number) => Promise<void>): Promise<void> {
  let n = 0;
  const srv = createServer((req, res) => handler(req, res, ++n));
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", () => r()));
  try {
    await fn(`http://127.0.0.1:${(srv.address() as { port: number }).port}`, () => n);
  } finally {
    srv.closeAllConnections();
    await new Promise((r) => srv.close(r));
  }
}

const settings = (uri: string) => ({ ...serverFromEnv({ MLFLOW_TRACKING_URI: uri, MLFLOW_TRACKING_TOKEN: "tok-123" })!, maxRetries: 3, backoffSeconds: 0.01, timeoutSeconds: 0.5 });

test("a 400 is reported with MLflow's message and not retried", async () => {
  await withServer((_req, res) => {
    res.writeHead(400, { "content-type": "application/json" });
    res.end(JSON.stringify({ error_code: "INVALID_PARAMETER_VALUE", message: "Invalid value \"a!\" for parameter 'params[0].key'" }));
  }, async (uri, hits) => {
    const err = await call(settings(uri), { method: "POST", path: "/api/2.0/mlflow/runs/log-batch", json: {} }).catch((e) => e);
    assert.ok(err instanceof MlflowError);
    assert.equal(err.status, 400);
    assert.equal(err.code, "INVALID_PARAMETER_VALUE");
    assert.match(err.message, /params\[0\]\.key/);
    assert.equal(hits(), 1);
  });
});

test("503 and 429 are retried with backoff until they succeed", async () => {
  await withServer((_req, res, n) => {
    res.writeHead(n === 1 ? 503 : n === 2 ? 429 : 200, { "content-type": "application/json" });
    res.end(n < 3 ? "{}" : JSON.stringify({ ok: true }));
  }, async (uri, hits) => {
    assert.deepEqual(await call(settings(uri), { method: "GET", path: "/x" }), { ok: true });
    assert.equal(hits(), 3);
  });
});

test("a slow server times out and is retried; an HTML page is a clear error; the token stays secret", async () => {
  await withServer((req, res, n) => {
    assert.equal(req.headers.authorization, "Bearer tok-123");
    if (n === 1) return void setTimeout(() => res.end("{}"), 2000);
    res.writeHead(502, { "content-type": "text/html" });
    res.end("<html><body><h1>502 Bad Gateway</h1> tok-123</body></html>");
  }, async (uri, hits) => {
    const err = await call(settings(uri), { method: "GET", path: "/x" }).catch((e) => e);
    assert.ok(err instanceof MlflowError);
    assert.equal(hits(), 4);
    assert.match(err.message, /HTTP 502, not an MLflow answer \(text\/html\): 502 Bad Gateway/);
    assert.doesNotMatch(err.message, /tok-123/);
  });
});

test("network errors are retried, then reported with the server address", async () => {
  const port = await freePort();
  const err = await call(settings(`http://127.0.0.1:${port}`), { method: "GET", path: "/x" }).catch((e) => e);
  assert.ok(err instanceof MlflowError);
  assert.equal(err.status, 0);
  assert.match(err.message, new RegExp(`cannot reach http://127\\.0\\.0\\.1:${port} \\(ECONNREFUSED\\)`));
});
