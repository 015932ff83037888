/**
 * MLFLOW_TRACKING_SERVER_CERT_PATH and MLFLOW_TRACKING_INSECURE_TLS against an HTTPS server of our
 * own with a self-signed certificate made here by openssl: this checks the client's TLS settings.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer } from "node:https";
import { join } from "node:path";
import { call } from "../../src/tracking/http";
import { serverFromEnv } from "../../src/tracking/settings";
import { tempDir } from "../helpers";

test("a CA bundle or insecure TLS reaches an HTTPS server with a self-signed certificate; neither is refused", async (t) => {
  const dir = tempDir(t);
  const key = join(dir, "key.pem");
  const cert = join(dir, "cert.pem");
  execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "1",
    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"], { stdio: "ignore" });
  const srv = createServer({ key: readFileSync(key), cert: readFileSync(cert) }, (_req, res) => {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ experiment: { experiment_id: "1", name: "x", lifecycle_stage: "active" } }));
  });
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", () => r()));
  t.after(() => new Promise((r) => (srv.closeAllConnections(), srv.close(r))));
  const uri = `https://127.0.0.1:${(srv.address() as { port: number }).port}`;
  const get = (env: Record<string, string>) =>
    call({ ...serverFromEnv({ MLFLOW_TRACKING_URI: uri, ...env })!, maxRetries: 0, timeoutSeconds: 5 }, { method: "GET", path: "/api/2.0/mlflow/experiments/get-by-name", query: { experiment_name: "x" } });
  assert.deepEqual(((await get({ MLFLOW_TRACKING_SERVER_CERT_PATH: cert })) as { experiment: { experiment_id: string } }).experiment.experiment_id, "1");
  assert.equal(((await get({ MLFLOW_TRACKING_INSECURE_TLS: "true" })) as { experiment: { name: string } }).experiment.name, "x");
  const err = await get({}).catch((e: Error) => e);
  assert.ok(err instanceof Error, "an untrusted certificate must be refused");
  assert.match(err.message, /certificate|self.signed/i);
});
