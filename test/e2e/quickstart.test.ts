import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { resolve } from "node:path";
import { tempDir } from "../helpers";

const ROOT = resolve(__dirname, "../../..");
const BIN = resolve(ROOT, "bin/tlrun.js");
const SLOW = { skip: process.env.TLRUN_FAST ? "slow: TLRUN_FAST is set" : false, timeout: 30 * 60_000 };

function tlrun(args: string[]) {
  const started = Date.now();
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: "utf8", env: { ...process.env, CI: "true" }, maxBuffer: 64 << 20 });
  return { code: r.status, stderr: r.stderr, json: () => JSON.parse(r.stdout), seconds: (Date.now() - started) / 1000 };
}

/**
 * The README's quickstart, for real: held-out accuracy at least 0.70, fine-tuning beats the
 * head alone, the second run is all cache hits in under 5 s, and a head change keeps prepare
 * and extract cached. Slow: several minutes on the native backend.
 */
test("quickstart: accuracy, fine-tune gain, cached rerun, head change", SLOW, (t) => {
  const runs = tempDir(t);
  const common = ["pipelines/quickstart.yaml", "--json", "--set", `runtime.runs_dir=${runs}`];
  const first = tlrun(common);
  assert.equal(first.code, 0, first.stderr.slice(-3000));
  const s = first.json();
  t.diagnostic(`backend ${s.backend}, ${first.seconds.toFixed(0)} s, stages ${JSON.stringify(s.stages.map((x: { name: string; seconds: number }) => [x.name, Math.round(x.seconds)]))}`);
  t.diagnostic(`test_accuracy ${s.metrics.test_accuracy.toFixed(4)}, head_test_accuracy ${s.metrics.head_test_accuracy.toFixed(4)}, macro_f1 ${s.metrics.test_macro_f1.toFixed(4)}, macro_auc ${s.metrics.test_macro_auc.toFixed(4)}`);
  assert.ok(s.metrics.test_accuracy >= 0.7, `test_accuracy ${s.metrics.test_accuracy}`);
  assert.ok(s.metrics.test_accuracy > s.metrics.head_test_accuracy, "fine-tuning should beat the head alone");

  const second = tlrun(common);
  assert.equal(second.code, 0, second.stderr.slice(-2000));
  assert.ok(second.json().stages.every((x: { cached: boolean }) => x.cached));
  t.diagnostic(`cached rerun ${second.seconds.toFixed(1)} s`);
  assert.ok(second.seconds <= 5, `cached rerun took ${second.seconds} s`);

  const r = spawnSync(process.execPath, [BIN, "plan", ...common.filter((a) => a !== "--json"), "--set", "head.dropout=0.3", "--json"], { cwd: ROOT, encoding: "utf8" });
  const cached = JSON.parse(r.stdout).stages.map((x: { name: string; cached: boolean }) => `${x.name}:${x.cached}`);
  assert.deepEqual(cached, ["dataset:true", "weights:true", "prepare:true", "extract:true", "audit:true", "train-head:false", "unfreeze:false", "fine-tune:false", "evaluate:false"]);
});
