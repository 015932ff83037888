import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { encodeDouble } from "../../src/tracking/client";
import { chunkBatches, LIMITS, sanitizeKey, truncate } from "../../src/tracking/limits";
import { MLFLOW_VERSION } from "../../src/tracking/local-server";
import { redact, serverFromEnv, targetFrom } from "../../src/tracking/settings";

test("keys MLflow would refuse are sanitised; valid keys are unchanged", () => {
  assert.equal(sanitizeKey("train.head.learning_rate"), "train.head.learning_rate");
  assert.equal(sanitizeKey("stage/fine-tune/seconds"), "stage/fine-tune/seconds");
  assert.equal(sanitizeKey("acc@top5!"), "acc_top5_");
  assert.equal(sanitizeKey("../x"), "_/x");
  assert.equal(sanitizeKey("/lead"), "lead");
  assert.equal(sanitizeKey("k".repeat(300)).length, LIMITS.keyLength);
  assert.equal(truncate("x".repeat(7000), LIMITS.paramValueLength).length, 6000);
});

test("NaN and Infinity are sent as MLflow's protobuf JSON strings", () => {
  assert.deepEqual([NaN, Infinity, -Infinity, 0.5].map(encodeDouble), ["NaN", "Infinity", "-Infinity", 0.5]);
});

test("log-batch chunks stay within 1000 metrics, 100 params and 100 tags", () => {
  const metrics = Array.from({ length: 2500 }, (_, i) => ({ key: "m", value: i, timestamp: 1, step: i }));
  const params = Array.from({ length: 250 }, (_, i) => ({ key: `p${i}`, value: "v" }));
  const batches = chunkBatches({ metrics, params, tags: params });
  assert.ok(batches.every((b) => b.metrics.length <= 1000 && b.params.length <= 100 && b.tags.length <= 100));
  assert.equal(batches.reduce((n, b) => n + b.metrics.length, 0), 2500);
  assert.equal(batches.reduce((n, b) => n + b.params.length, 0), 250);
  const big = Array.from({ length: 300 }, (_, i) => ({ key: `p${i}`, value: "v".repeat(6000) }));
  assert.ok(chunkBatches({ params: big }).every((b) => JSON.stringify(b).length < 1_000_000));
});

test("settings come from MLFLOW_* variables; env overrides the YAML; secrets never show", () => {
  const env = { MLFLOW_TRACKING_URI: "http://u:pw@127.0.0.1:5000/", MLFLOW_TRACKING_TOKEN: "s3cret", MLFLOW_EXPERIMENT_NAME: "from-env" };
  const s = serverFromEnv(env)!;
  assert.equal(s.uri, "http://127.0.0.1:5000");
  assert.equal(s.authorization, "Bearer s3cret");
  assert.equal(serverFromEnv({ MLFLOW_TRACKING_URI: "http://h:1", MLFLOW_TRACKING_USERNAME: "a", MLFLOW_TRACKING_PASSWORD: "b" })!.authorization, `Basic ${Buffer.from("a:b").toString("base64")}`);
  assert.equal(serverFromEnv({}), undefined);
  assert.equal(serverFromEnv({ MLFLOW_TRACKING_URI: "file:///tmp/mlruns" }), undefined);
  const t = targetFrom({ experiment: "yaml", run_name: "r", tags: { team: "v" } }, "pipe", "id", env);
  assert.deepEqual(t, { experiment: "from-env", runName: "r", tags: { team: "v" } });
  assert.equal(targetFrom({ experiment: "", run_name: "", tags: {} }, "pipe", "id", {}).experiment, "pipe");
  assert.equal(redact("token s3cret at http://u:pw@h", env), "token *** at http://***@h");
});

test("the MLflow version pinned for installs is the one tlrun looks for", () => {
  const script = readFileSync(resolve(__dirname, "../../../scripts/mlflow/setup.mjs"), "utf8");
  assert.match(script, new RegExp(`MLFLOW_VERSION = "${MLFLOW_VERSION.replace(/\./g, "\\.")}"`));
});
