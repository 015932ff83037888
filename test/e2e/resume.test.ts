import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { tempDir, tinyEmojiDataset, tinyPipeline } from "../helpers";
import { Rng } from "../../src/util/rng";

/**
 * Resume inside a stage, through the real CLI: a run is killed with SIGKILL once its training
 * stage has checkpointed a random epoch, then run again; the final weights' sha256 and the
 * metrics must equal an uninterrupted run's in another runs folder. Slow: skipped with TLRUN_FAST.
 * (Damaged checkpoints, in process: test/stages/checkpointing.test.ts.)
 */
const BIN = join(resolve(__dirname, "../../.."), "bin/tlrun.js");
const SLOW = { skip: process.env.TLRUN_FAST ? "slow: TLRUN_FAST is set" : false, timeout: 5 * 60_000 };
const EPOCHS = { "train-head": 8, "fine-tune": 6 };
type Trained = keyof typeof EPOCHS;

function tlrun(file: string, runs: string) {
  const r = spawnSync(process.execPath, [BIN, "run", file, "--set", `runtime.runs_dir=${runs}`], { encoding: "utf8", env: { ...process.env, CI: "true" } });
  assert.equal(r.status, 0, r.stderr);
  return r.stderr + r.stdout;
}

function setup(t: import("node:test").TestContext) {
  const root = tempDir(t, "tlrun-resume-");
  const data = tinyEmojiDataset(join(root, "data"), 20);
  const file = join(root, "p.yaml");
  const yaml = tinyPipeline(data, join(root, "runs"))
    .replace("input_size: [32, 32]", "input_size: [48, 48]")
    .replace("train:\n  head: { epochs: 2,", `train:\n  head: { epochs: ${EPOCHS["train-head"]},`)
    .replace("fine_tune: { epochs: 1,", `fine_tune: { epochs: ${EPOCHS["fine-tune"]}, schedule: { type: cosine, warmup_epochs: 1 }, early_stopping: { enabled: false },`);
  writeFileSync(file, yaml);
  return { root, file };
}

/** The one committed entry folder of `stage` in a runs folder's cache (no checkpoint beside it). */
function entry(runs: string, stage: string): string {
  const names = readdirSync(join(runs, ".cache", stage)).filter((n) => /^[0-9a-f]{64}$/.test(n));
  assert.equal(names.length, 1, `${stage}: ${names.join(", ")}`);
  return join(runs, ".cache", stage, names[0]!);
}

/** sha256 of every trained weights file, and the run's metrics. */
function outcome(runs: string): { hashes: Record<string, string>; metrics: unknown } {
  const hashes: Record<string, string> = {};
  for (const [stage, parts] of [["train-head", ["head"]], ["fine-tune", ["top", "head"]]] as const)
    for (const p of parts) hashes[`${stage}/${p}`] = createHash("sha256").update(readFileSync(join(entry(runs, stage), p, "weights.bin"))).digest("hex");
  const run = readdirSync(runs).filter((n) => !n.startsWith(".")).sort().pop()!;
  return { hashes, metrics: JSON.parse(readFileSync(join(runs, run, "summary.json"), "utf8")).metrics };
}

function checkpointEpoch(runs: string, stage: string): number {
  const dir = join(runs, ".cache", stage);
  if (!existsSync(dir)) return 0;
  const ckpt = readdirSync(dir).find((n) => n.endsWith(".ckpt"));
  try {
    return ckpt ? (JSON.parse(readFileSync(join(dir, ckpt, "checkpoint.json"), "utf8")) as { epoch: number }).epoch : 0;
  } catch {
    return 0; // between the rename aside and the rename in
  }
}

/** Run the pipeline and SIGKILL it as soon as `stage` has checkpointed epoch `k` or later; the epoch its checkpoint holds. */
async function killAfter(file: string, runs: string, stage: Trained, k: number): Promise<number> {
  const child = spawn(process.execPath, [BIN, "run", file, "--set", `runtime.runs_dir=${runs}`], { env: { ...process.env, CI: "true" }, stdio: "ignore" });
  const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
  let done = false;
  void exited.then(() => (done = true));
  while (!done && checkpointEpoch(runs, stage) < k) await new Promise((r) => setTimeout(r, 1));
  child.kill("SIGKILL");
  const code = await exited;
  assert.equal(code, null, `the run ended (exit ${code}) before ${stage} checkpointed epoch ${k}`);
  return checkpointEpoch(runs, stage);
}

test("kill -9 inside train-head and inside fine-tune at a random epoch, then re-run: it resumes there, and the weights' sha256 and metrics equal an uninterrupted run's", SLOW, async (t) => {
  const { root, file } = setup(t);
  tlrun(file, join(root, "clean"));
  const want = outcome(join(root, "clean"));
  // fine-tune ends on its last epoch's weights (no restore_best, which may keep the head's and
  // make the comparison empty; fit's test covers it), so they are its own
  assert.notEqual(want.hashes["fine-tune/head"], want.hashes["train-head/head"], "fine-tuning changed the head");
  t.diagnostic(`uninterrupted: ${Object.entries(want.hashes).map(([k, h]) => `${k} ${h.slice(0, 16)}`).join(", ")}`);
  const seed = Number(process.env.TLRUN_RESUME_SEED ?? Date.now() % 100_000);
  const rng = new Rng(seed);
  for (const stage of ["train-head", "fine-tune"] as const) {
    const k = 1 + rng.int(EPOCHS[stage] - 2); // leaves time to kill before the last epoch
    const runs = join(root, `killed-${stage}`);
    const at = await killAfter(file, runs, stage, k);
    t.diagnostic(`${stage}: TLRUN_RESUME_SEED=${seed} aimed at epoch ${k}, killed with epoch ${at} checkpointed`);
    assert.ok(at >= k && at < EPOCHS[stage], `checkpointed epoch ${at}`);
    const out = tlrun(file, runs);
    assert.match(out, new RegExp(`${stage}: resuming at epoch ${at + 1} of ${EPOCHS[stage]} from a checkpoint`));
    assert.deepEqual(outcome(runs), want, `${stage} resumed after epoch ${at} (TLRUN_RESUME_SEED=${seed})`);
    assert.deepEqual(readdirSync(join(runs, ".cache", stage)).filter((n) => n.includes(".ckpt")), [], "the checkpoint is removed once the entry is committed");
  }

});
