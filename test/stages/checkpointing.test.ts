import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadConfig } from "../../src/config";
import { execute, PRUNED } from "../../src/executor/execute";
import type { RunObserver } from "../../src/executor/observer";
import { checkpointInfo, stageCheckpointing } from "../../src/stages/checkpointing";
import type { StageContext } from "../../src/stages/types";
import type { FitState } from "../../src/training/checkpoint";
import { tempDir, tinyEmojiDataset, tinyPipeline } from "../helpers";

const checkpoints = (runs: string): string[] => readdirSync(join(runs, ".cache", "fine-tune")).filter((n) => n.endsWith(".ckpt"));

/** An observer that stops the run with `reason` once fine-tune has finished epoch 2. */
function stopAfterSecondEpoch(reason: string): { signal: AbortSignal; observer: RunObserver } {
  const c = new AbortController();
  return { signal: c.signal, observer: { onEpochEnd: (e) => void (e.phase === "fine_tune" && e.epoch === 2 && !e.cached && c.abort(reason)) } };
}

/** sha256 of the fine-tuned top's and head's weights in the committed entry `key`. */
function weightsHash(runs: string, key: string): string {
  const h = createHash("sha256");
  for (const part of ["top", "head"]) h.update(readFileSync(join(runs, ".cache", "fine-tune", key, part, "weights.bin")));
  return h.digest("hex");
}

test("an interrupted fine-tune keeps its checkpoint, the re-run replays epochs 1-2 once (as cached) and trains from 3 without leaking tensors, to the weights a restart gives; a truncated or byte-flipped checkpoint warns and restarts, to the same weights; a pruned trial's checkpoint is removed", async (t) => {
  const root = tempDir(t);
  const data = tinyEmojiDataset(join(root, "data"));
  const runs = join(root, "runs");
  const file = join(root, "p.yaml");
  writeFileSync(file, tinyPipeline(data, runs));
  const overrides = ["train.fine_tune.epochs=4"];

  const stop = stopAfterSecondEpoch("SIGINT");
  await assert.rejects(execute(loadConfig(file, { overrides }), { renderer: "silent", signal: stop.signal, observers: [stop.observer] }), /interrupted|SIGINT/i);
  const [ckpt] = checkpoints(runs);
  assert.ok(ckpt, "the interrupted run left its checkpoint");
  assert.equal(JSON.parse(readFileSync(join(runs, ".cache", "fine-tune", ckpt, "checkpoint.json"), "utf8")).epoch, 2);

  // truncated: a warning, and fine-tune from epoch 1
  truncateSync(join(runs, ".cache", "fine-tune", ckpt, "tensors.bin"), 100);
  const restarted = await execute(loadConfig(file, { overrides }), { renderer: "silent", checkLeaks: true });
  assert.ok(restarted.warnings.some((w) => /^fine-tune: the checkpoint of an interrupted run is unusable \(tensors\.bin is 100 bytes, expected \d+\); training starts again from epoch 1$/.test(w)), JSON.stringify(restarted.warnings));
  const key = restarted.stages.find((s) => s.name === "fine-tune")!.key!;
  assert.equal(restarted.stages.find((s) => s.name === "fine-tune")!.info?.resumed_after_epoch, 0);
  const clean = weightsHash(runs, key);

  // the entry dropped and the stage interrupted again after epoch 2; 64 bytes of the checkpoint
  // inverted, its size unchanged: a warning, fine-tune from epoch 1, the same weights
  const interrupt = async (): Promise<string> => {
    rmSync(join(runs, ".cache", "fine-tune", key), { recursive: true });
    const again = stopAfterSecondEpoch("SIGINT");
    await assert.rejects(execute(loadConfig(file, { overrides }), { renderer: "silent", signal: again.signal, observers: [again.observer] }), /interrupted|SIGINT/i);
    return join(runs, ".cache", "fine-tune", checkpoints(runs)[0]!);
  };
  const bin = join(await interrupt(), "tensors.bin");
  const bytes = readFileSync(bin);
  for (let i = 0; i < 64; i++) bytes[(bytes.length >> 1) + i] ^= 0xff;
  writeFileSync(bin, bytes);
  const flipped = await execute(loadConfig(file, { overrides }), { renderer: "silent" });
  assert.ok(flipped.warnings.some((w) => /^fine-tune: the checkpoint of an interrupted run is unusable \(tensors\.bin does not match its sha256\); training starts again from epoch 1$/.test(w)), JSON.stringify(flipped.warnings));
  assert.equal(weightsHash(runs, key), clean, "a flipped checkpoint: the weights of a clean run");

  // and resumed from a whole one
  await interrupt();
  const seen: Array<[number, boolean]> = [];
  const summary = await execute(loadConfig(file, { overrides }), {
    renderer: "silent", checkLeaks: true, observers: [{ onEpochEnd: (e) => void (e.phase === "fine_tune" && seen.push([e.epoch, e.cached])) }],
  });
  assert.equal(summary.status, "completed");
  assert.deepEqual(seen, [[1, true], [2, true], [3, false], [4, false]], "each epoch reported once; the checkpoint's as replayed");
  const stage = summary.stages.find((s) => s.name === "fine-tune")!;
  assert.equal(stage.info?.resumed_after_epoch, 2);
  assert.equal(stage.info?.checkpoints_written, 2);
  const journal = readFileSync(join(summary.run_dir, "metrics.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l)).filter((e) => e.phase === "fine_tune");
  assert.deepEqual(journal.map((e) => e.epoch), [1, 2, 3, 4]);
  assert.deepEqual(checkpoints(runs), [], "removed once the entry is committed");
  assert.equal(weightsHash(runs, key), clean, "resumed after epoch 2, the same weights as from epoch 1");

  const prune = stopAfterSecondEpoch(PRUNED);
  const pruned = await execute(loadConfig(file, { overrides: [...overrides, "train.fine_tune.learning_rate=0.0003"] }), { renderer: "silent", signal: prune.signal, observers: [prune.observer] });
  assert.equal(pruned.status, "pruned");
  assert.deepEqual(checkpoints(runs), [], "a pruned trial is never resumed: no checkpoint is kept");
  assert.ok(!existsSync(join(runs, ".cache", "fine-tune", `${stage.key}.ckpt`)));
});

/** The least FitState: one epoch, no tensors. */
const tinyState = (): FitState => ({
  epochsDone: 1, history: [{ phase: "fine_tune", epoch: 1, epochs: 3, global_epoch: 1, loss: 1, accuracy: 0, val_loss: 1, val_accuracy: 0, learning_rate: 0.1, images_per_second: 1, seconds: 1 }],
  early: { best: Infinity, bestEpoch: 0, waited: 0, stoppedEarly: false }, weights: [], optimizers: [], noise: [], steps: { seen: [], graphs: {}, counts: { compiled: 0, eager: 0 } },
});

function fakeContext(dir: string, warnings: string[], notes: string[]): StageContext {
  return { node: { name: "fine-tune" }, key: "a".repeat(64), checkpoint: { dir, resume: true }, warn: (m: string) => warnings.push(m), note: (l: string) => notes.push(l) } as unknown as StageContext;
}

test("a stage's checkpointing: says where it resumes, warns once when a checkpoint cannot be written and goes on, and removes a damaged one", (t) => {
  const root = tempDir(t);
  const warnings: string[] = [];
  const notes: string[] = [];
  const dir = join(root, "x.ckpt");
  const first = stageCheckpointing(fakeContext(dir, warnings, notes), 3);
  assert.equal(first.checkpoint?.resume, undefined, "none yet");
  first.checkpoint!.save(tinyState());
  const second = stageCheckpointing(fakeContext(dir, warnings, notes), 3);
  assert.equal(second.checkpoint?.resume?.epochsDone, 1);
  assert.deepEqual(notes, ["fine-tune: resuming at epoch 2 of 3 from a checkpoint"]);
  assert.deepEqual(checkpointInfo(second.cost).resumed_after_epoch, 1);

  writeFileSync(join(dir, "state.json"), readFileSync(join(dir, "state.json"), "utf8").replace("fine_tune", "fine_tone"));
  const damaged = stageCheckpointing(fakeContext(dir, warnings, notes), 3);
  assert.equal(damaged.checkpoint?.resume, undefined);
  assert.match(warnings.join("\n"), /^fine-tune: the checkpoint of an interrupted run is unusable \(state\.json does not match its sha256\); training starts again from epoch 1$/);
  assert.ok(!existsSync(dir), "removed");

  writeFileSync(join(root, "file"), "not a folder");
  const blocked = stageCheckpointing(fakeContext(join(root, "file", "y.ckpt"), warnings, notes), 3);
  blocked.checkpoint!.save(tinyState());
  blocked.checkpoint!.save(tinyState());
  assert.equal(warnings.filter((w) => /a checkpoint could not be written/.test(w)).length, 1, "warned once");
  assert.equal(blocked.cost.written, 0);
});
