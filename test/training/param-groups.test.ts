import { test } from "node:test";
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { resolve } from "node:path";
import { selectBackend } from "../../src/backend/select";
import { buildSplitBase } from "../../src/models/build";
import { resolveLayerRef } from "../../src/models/freeze-point";
import { baseLayers } from "../../src/models/layers";
import { loadArtifacts } from "../../src/models/source";
import { fineTuneGroups } from "../../src/stages/fine-tune-groups";
import { resolveFreeze } from "../../src/plan/freeze";
import { fit, type Batch } from "../../src/training/fit";
import { GroupOptimizer } from "../../src/training/param-groups";
import { unfreezeSchedule } from "../../src/training/unfreeze-schedule";
import { ARCHITECTURES } from "../../src/models/zoo";
import { defaultConfig } from "../plan/fixtures";

const ROOT = resolve(__dirname, "../../..");

async function trainingBackend(): Promise<void> {
  if (!(await selectBackend("auto")).canTrainConv) await selectBackend("cpu");
}

/** Runs `fn` and fails if it leaves tensors behind (tfjs-layers' expectNoLeakedTensors). */
async function noLeaks<T>(fn: () => Promise<T> | T): Promise<T> {
  const before = tf.memory().numTensors;
  const out = await fn();
  assert.equal(tf.memory().numTensors, before, "tensors leaked");
  return out;
}

test("each group's adam steps at lr x factor (not a scaled gradient); factor 0 and groups not started yet stay put", async () => {
  await trainingBackend();
  await noLeaks(() => {
    const start = [1, -2, 3];
    const [a, b, z, late, ref, scaled] = Array.from({ length: 6 }, () => tf.tidy(() => tf.variable(tf.tensor1d(start))));
    const opt = new GroupOptimizer("adam", [
      { variables: [a!], lrFactor: 1, fromEpoch: 0 },
      { variables: [b!], lrFactor: 0.1, fromEpoch: 0 },
      { variables: [z!], lrFactor: 0, fromEpoch: 0 },
      { variables: [late!], lrFactor: 1, fromEpoch: 1 },
    ]);
    const reference = tf.train.adam(0.01 * 0.1);
    const gradientScaled = tf.train.adam(0.01);
    const loss = (vs: tf.Variable[], k = 1) => () => tf.mul(k, tf.sum(vs.map((v) => tf.sum(tf.square(v))).reduce((x, y) => tf.add(x, y)))) as tf.Scalar;
    for (let epoch = 0; epoch < 2; epoch++) {
      opt.startEpoch(epoch, 0.01);
      for (let step = 0; step < 5; step++) {
        tf.dispose(opt.minimize(loss([a!, b!, z!, late!])));
        if (epoch === 0) tf.dispose([reference.minimize(loss([ref!]), true, [ref!])!, gradientScaled.minimize(loss([scaled!], 0.1), true, [scaled!])!]);
      }
      if (epoch === 0) assert.deepEqual(Array.from(late!.dataSync()), start);
    }
    const close = (x: tf.Tensor, y: tf.Tensor) => Math.max(...tf.tidy(() => tf.abs(tf.sub(x, y)).dataSync())) < 1e-6;
    assert.deepEqual(Array.from(z!.dataSync()), start);
    assert.notDeepEqual(Array.from(a!.dataSync()), start);
    assert.notDeepEqual(Array.from(late!.dataSync()), start);
    // b after epoch 0 (5 steps) would match ref; it took 10 steps, so compare a fresh run instead:
    const b5 = tf.tidy(() => tf.variable(tf.tensor1d(start)));
    const single = new GroupOptimizer("adam", [{ variables: [b5], lrFactor: 0.1, fromEpoch: 0 }]);
    single.startEpoch(0, 0.01);
    for (let step = 0; step < 5; step++) tf.dispose(single.minimize(loss([b5])));
    assert.ok(close(b5, ref!), "a 0.1 group moves like adam at 0.1 x the rate");
    assert.ok(!close(ref!, scaled!), "scaling the gradient instead gives adam's full step");
    single.dispose();
    opt.dispose();
    reference.dispose();
    gradientScaled.dispose();
    tf.dispose([a!, b!, z!, late!, ref!, scaled!, b5]);
  });
});

test("unfreezeSchedule: blocks start at evenly spaced epochs from the top; lr_decay per block; explicit ranges", () => {
  const arch = ARCHITECTURES.resnet50!;
  const names = baseLayers({ topology: arch.topology(), defaultCut: arch.defaultCut }, "").map((l) => l.name);
  const at = resolveLayerRef(names, "conv4_block1")!;
  const conv = (n: string) => n.endsWith("_conv");
  const s = unfreezeSchedule(names, at, conv, { gradual: true, epochs: 12, lrDecay: 0.7, multipliers: [] });
  const of = (block: string) => s.find((l) => l.block === block)!;
  assert.deepEqual([...new Set(s.map((l) => l.block))].length, 9); // conv4_block1..6, conv5_block1..3
  assert.deepEqual([of("conv5_block3").fromEpoch, of("conv5_block2").fromEpoch, of("conv4_block1").fromEpoch], [0, 1, 10]);
  assert.ok(Math.abs(of("conv5_block3").lrFactor - 0.7) < 1e-12 && Math.abs(of("conv4_block1").lrFactor - 0.7 ** 9) < 1e-12);
  assert.ok(s.every((l) => conv(l.name) && l.fromEpoch < 12));
  const few = unfreezeSchedule(names, at, conv, { gradual: true, epochs: 3, lrDecay: 1, multipliers: [] });
  assert.deepEqual([...new Set(few.map((l) => l.fromEpoch))].sort(), [0, 1, 2]); // 9 blocks over 3 epochs: 3 at a time
  const ranges = unfreezeSchedule(names, at, conv, { gradual: false, epochs: 5, lrDecay: 1, multipliers: [{ index: resolveLayerRef(names, "conv5")!, factor: 0.3 }, { index: at, factor: 0.1 }] });
  assert.deepEqual([...new Set(ranges.map((l) => `${l.block.slice(0, 5)} ${l.lrFactor} ${l.fromEpoch}`))], ["conv4 0.1 0", "conv5 0.3 0"]);
});

test("gradual unfreezing through fit: in epoch 1 only the top block changes, by the last epoch every block has", async () => {
  await trainingBackend();
  const a = loadArtifacts("mobilenet_v2", ROOT);
  const names = baseLayers(a, "out_relu").map((l) => l.name);
  const at = names.indexOf("block_15_expand");
  const split = await buildSplitBase(a, "out_relu", [32, 32], at);
  // The head seeded and the rate moderate, so the run is the same every time: once in CI an
  // unseeded head at 1e-2 left block_16's weights unchanged in epoch 2 (not reproduced in 20 runs
  // here). A gradient too small to move a float32 weight, through ReLU6 units the top's first
  // epoch pushed out of range, is the likely cause; it was not confirmed.
  const head = tf.sequential({ layers: [tf.layers.dense({ inputShape: [1280], units: 3, activation: "softmax", kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }) })] });
  try {
    for (const l of split.top.layers) l.trainable = l.getClassName() !== "BatchNormalization";
    const config = defaultConfig();
    config.freeze = { at: "block_15_expand", gradual: true, batchnorm: "frozen" };
    config.train.fine_tune = { ...config.train.fine_tune!, epochs: 3, learning_rate: 1e-3 };
    config.base.cut = "out_relu";
    config.base.input_size = [32, 32];
    const freeze = resolveFreeze(config, a)!;
    assert.equal(freeze.index, at);
    const groups = fineTuneGroups(freeze, split.top, head);
    const blocks = freeze.blocks;
    assert.deepEqual(blocks, [
      { block: "block_15", from_epoch: 3, lr_factor: 1 },
      { block: "block_16", from_epoch: 2, lr_factor: 1 },
      { block: "top", from_epoch: 1, lr_factor: 1 },
    ]);
    const blockOf = new Map(blocks.map((b) => [b.block, split.top.layers.filter((l) => l.name.startsWith(b.block === "top" ? "Conv_1" : `${b.block}_`) && l.trainableWeights.length)]));
    const snapshot = () => new Map([...blockOf].map(([b, ls]) => [b, ls.flatMap((l) => l.getWeights().map((w) => Array.from(w.dataSync())))]));
    const initial = snapshot();
    const changed: string[][] = [];
    const frontier = split.top.inputs[0]!.shape.slice(1) as number[];
    const phase = config.train.fine_tune;
    await noLeaks(() =>
      fit({
        phaseName: "fine_tune", phase, epochOffset: 0, variables: groups.flatMap((g) => g.variables), groups,
        forward: (x, training) => head.apply(tf.mean(split.top.apply(x, { training: false }) as tf.Tensor, [1, 2]), { training }) as tf.Tensor,
        loss: (y, p) => tf.losses.softmaxCrossEntropy(y, tf.log(tf.add(p, 1e-7))) as tf.Scalar,
        batches: async function* (epoch): AsyncGenerator<Batch> {
          for (let i = 0; i < 2; i++) yield { x: tf.randomNormal([4, ...frontier], 0, 1, "float32", epoch * 10 + i), y: tf.tidy(() => tf.oneHot(tf.tensor1d([0, 1, 2, i], "int32"), 3)), n: 4 };
        },
        batchesPerEpoch: 2, validate: async () => ({ loss: 0, accuracy: 0 }),
        callbacks: {
          onEpochEnd: () => {
            const now = snapshot();
            changed.push([...now].filter(([b, ws]) => JSON.stringify(ws) !== JSON.stringify(initial.get(b))).map(([b]) => b).sort());
          },
        },
        checkAbort: () => {},
      }),
    );
    assert.deepEqual(changed, [["top"], ["block_16", "top"], ["block_15", "block_16", "top"]]);
  } finally {
    split.bottom.dispose();
    split.top.dispose();
    head.dispose();
  }
});
