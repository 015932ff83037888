import { before, test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { readdirSync, readFileSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { FineTunePhaseConfig, OptimizerName } from "../../src/config/types";
import { SeededDropout, noiseSources } from "../../src/models/seeded-dropout";
import { readCheckpoint, writeCheckpoint, type FitState } from "../../src/training/checkpoint";
import { fit, type FitResult } from "../../src/training/fit";
import type { ParamGroup } from "../../src/training/param-groups";
import { selectBackend } from "../../src/backend/select";
import { tempDir } from "../helpers";

// native where it is installed: its compiled training steps are part of what a checkpoint keeps
before(async () => void (await selectBackend("auto")));

/** A fit result without its timings, which no two runs share. */
const untimed = (r: FitResult): unknown => ({ ...r, history: r.history.map(({ seconds: _s, images_per_second: _i, ...rest }) => rest) });

const EPOCHS = 5;
const owner = { stage: "fine-tune", key: "k".repeat(64) };

const phase = (optimizer: OptimizerName): FineTunePhaseConfig => ({
  epochs: EPOCHS, optimizer, learning_rate: 0.05, batch_size: 6, lr_decay: 1, lr_multipliers: [],
  schedule: { type: "cosine", warmup_epochs: 1, step_epochs: 1, gamma: 1, min_factor: 0.1 },
  early_stopping: { enabled: true, monitor: "val_loss", patience: 1, min_delta: 0, restore_best: true },
});

/** dense → seeded dropout → softmax, from seeded initializers: every call builds the same weights. */
function model(): tf.LayersModel {
  const m = tf.sequential({ layers: [
    tf.layers.dense({ inputShape: [4], units: 8, activation: "relu", kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }),
    new SeededDropout({ rate: 0.3, seed: 5 }),
    tf.layers.dense({ units: 3, activation: "softmax", kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }),
  ] });
  return m;
}

/** fit() on a fixed toy problem: three batches a step, of two shapes (so a short batch compiles separately), a second group from epoch 2. */
async function train(optimizer: OptimizerName, resume?: FitState, refused?: string[]): Promise<{ result: FitResult; weights: Float32Array[]; states: FitState[] }> {
  const m = model();
  const states: FitState[] = [];
  try {
    const variables = m.trainableWeights.map((w) => w.read() as tf.Variable);
    const groups: ParamGroup[] = [{ variables: variables.slice(2), lrFactor: 1, fromEpoch: 0 }, { variables: variables.slice(0, 2), lrFactor: 0.5, fromEpoch: 2 }];
    // (seeds from 1: tfjs takes a seed of 0 as none)
    const data = (seed: number, n: number) => tf.tidy(() => ({ x: tf.randomNormal([n, 4], 0, 1, "float32", seed), y: tf.oneHot(tf.tensor1d(Array.from({ length: n }, (_, i) => (i + seed) % 3), "int32"), 3).toFloat() }));
    const val = data(999, 12);
    const result = await fit({
      phaseName: "t", phase: phase(optimizer), epochOffset: 0, variables, groups,
      forward: (x, training) => m.apply(x, { training }) as tf.Tensor,
      loss: (y, p) => tf.losses.softmaxCrossEntropy(y, tf.log(tf.add(p, 1e-7))) as tf.Scalar,
      batches: async function* (epoch) {
        for (let b = 0; b < 3; b++) yield { ...data(epoch * 10 + b + 1, b === 2 ? 4 : 6), n: b === 2 ? 4 : 6 };
      },
      batchesPerEpoch: 3,
      validate: async () => {
        const loss = tf.tidy(() => tf.losses.softmaxCrossEntropy(val.y, tf.log(tf.add(m.predict(val.x) as tf.Tensor, 1e-7))));
        const v = (await loss.data())[0]!;
        loss.dispose();
        return { loss: v, accuracy: 0 };
      },
      callbacks: {}, checkAbort: () => undefined,
      state: m.weights.map((w) => w.read() as tf.Variable), noise: noiseSources(m),
      checkpoint: { resume, save: (s) => void states.push(s), refused: (why) => refused?.push(why) },
    });
    tf.dispose([val.x, val.y]);
    return { result, weights: m.weights.map((w) => w.read().dataSync() as Float32Array), states };
  } finally {
    m.dispose();
  }
}

for (const optimizer of ["adam", "rmsprop", "sgd"] as const) {
  test(`${optimizer}: fit resumed from the checkpoint of any epoch ends on the same weights, bit for bit, as one run straight through`, async () => {
    const before = tf.memory().numTensors;
    const whole = await train(optimizer);
    assert.ok(whole.states.length >= 2, "at least two epochs ran");
    if (optimizer === "adam" && tf.getBackend() === "tensorflow") assert.match(whole.result.steps, /^tensorflow graph/, "its steps compiled");
    for (const [k, state] of whole.states.entries()) {
      const resumed = await train(optimizer, state);
      assert.deepEqual(resumed.weights.map((w) => Buffer.from(w.buffer).toString("hex")), whole.weights.map((w) => Buffer.from(w.buffer).toString("hex")), `resumed after epoch ${k + 1}`);
      assert.deepEqual(untimed(resumed.result), untimed(whole.result), `history, best epoch and how the steps ran, after epoch ${k + 1}`);
      assert.equal(resumed.states[0]?.epochsDone, k + 1 < whole.states.length ? k + 2 : undefined, "it goes on at the next epoch");
    }
    assert.equal(tf.memory().numTensors, before, "no tensor left behind");
  });
}

test("a checkpoint that does not fit the model is refused: fit says why and trains from epoch 1, to the same weights", async () => {
  const whole = await train("adam");
  const twice = await train("adam");
  assert.deepEqual(twice.weights, whole.weights, "two runs straight through agree");
  const wrong = { ...whole.states[1]!, weights: whole.states[1]!.weights.slice(1) };
  const refused: string[] = [];
  const again = await train("adam", wrong, refused);
  assert.match(refused.join(), /weights: 3 tensors saved, 4 expected/);
  assert.deepEqual(again.weights, whole.weights);
  assert.equal(again.states[0]!.epochsDone, 1);
});

test("a checkpoint on disk round-trips; a damaged or foreign one is reported, never thrown, never half-read", async (t) => {
  const root = tempDir(t);
  const dir = join(root, "x.ckpt");
  const { states } = await train("adam");
  writeCheckpoint(dir, owner, states[0]!);
  writeCheckpoint(dir, owner, states[1]!); // replaces the first, which is gone
  assert.deepEqual(readdirSync(root), ["x.ckpt"], "no temporary or older checkpoint left");
  const back = readCheckpoint(dir, owner);
  assert.ok(back.found);
  assert.deepEqual(back.state, states[1]);
  assert.equal(back.state.early.best, states[1]!.early.best);
  assert.deepEqual(readCheckpoint(join(root, "none.ckpt"), owner), { found: false });

  const damage: Array<[string, (d: string) => void, RegExp]> = [
    ["a same-size flip in tensors.bin", (d) => flip(join(d, "tensors.bin")), /tensors\.bin does not match its sha256/],
    ["a same-size flip in state.json", (d) => flip(join(d, "state.json")), /state\.json does not match its sha256/],
    ["a truncated tensors.bin", (d) => truncateSync(join(d, "tensors.bin"), 10), /tensors\.bin is 10 bytes, expected \d+/],
    ["broken JSON in the seal", (d) => writeFileSync(join(d, "checkpoint.json"), "{ not json"), /JSON/],
    ["a missing seal", (d) => writeFileSync(join(d, "checkpoint.json"), ""), /JSON/],
  ];
  for (const [what, harm, why] of damage) {
    writeCheckpoint(dir, owner, states[1]!);
    harm(dir);
    const r = readCheckpoint(dir, owner);
    assert.ok(!r.found && "damaged" in r, what);
    assert.match(r.damaged, why, what);
  }
  writeCheckpoint(dir, owner, states[1]!);
  const foreign = readCheckpoint(dir, { ...owner, key: "f".repeat(64) });
  assert.ok(!foreign.found && "damaged" in foreign);
  assert.match(foreign.damaged, /it belongs to fine-tune\/kkkkkkkkkkkk/);
  assert.ok(!readCheckpoint(dir, { ...owner, stage: "train-head" }).found);
});

/** Invert 64 bytes in the middle of a file, keeping its size. */
function flip(path: string): void {
  const b = readFileSync(path);
  for (let i = 0; i < Math.min(64, b.length); i++) b[(b.length >> 1) - 32 + i] ^= 0xff;
  writeFileSync(path, b);
}
