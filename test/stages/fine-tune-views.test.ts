import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadConfig } from "../../src/config";
import { execute } from "../../src/executor/execute";
import { loadModel } from "../../src/models/io";
import { tempDir, tinyEmojiDataset, tinyPipeline } from "../helpers";

/**
 * Fine-tune's stored views (augment.fine_tune_views) are a cost, not a result: computed on the
 * inference workers they must be the main thread's, bit for bit, and views that no epoch reads
 * (more views than epochs) are left out without changing the weights trained.
 */
test("fine-tune's stored views: the workers' are the main thread's, and views no epoch reads are not computed", { skip: process.env.TLRUN_FAST ? "slow (about 30 s): TLRUN_FAST is set" : false }, async (t) => {
  const root = tempDir(t);
  const data = tinyEmojiDataset(join(root, "data"));
  const saved = process.env.TLRUN_INFERENCE_WORKERS;
  t.after(() => (saved === undefined ? delete process.env.TLRUN_INFERENCE_WORKERS : (process.env.TLRUN_INFERENCE_WORKERS = saved)));
  // two epochs read views 0 and 1, whatever the number of views
  const phase = ["train.fine_tune.epochs=2", "train.fine_tune.learning_rate=0.001"];
  const fineTuned = async (name: string, views: number, workers: string) => {
    process.env.TLRUN_INFERENCE_WORKERS = workers;
    const file = join(root, `${name}.yaml`);
    writeFileSync(file, tinyPipeline(data, join(root, name)));
    const infos = new Map<string, Record<string, unknown>>();
    const summary = await execute(loadConfig(file, { overrides: [...phase, `augment.fine_tune_views=${views}`] }), {
      renderer: "silent", checkLeaks: true, observers: [{ onStageEnd: (s) => void infos.set(s.name, s.info) }],
    });
    assert.equal(summary.status, "completed", name);
    const model = await loadModel(join(summary.run_dir, "model"));
    const weights = model.getWeights().map((w) => Array.from(w.dataSync()));
    model.dispose();
    const info = infos.get("fine-tune")!;
    return { weights, views: info.activation_views, forward: String(info.frozen_forward) };
  };
  const main = await fineTuned("main", 1, "0");
  const workers = await fineTuned("workers", 1, "2");
  const more = await fineTuned("more", 4, "2");
  assert.doesNotMatch(main.forward, /workers x/);
  assert.match(workers.forward, /2 workers x/);
  assert.deepEqual(workers.weights, main.weights, "the workers' activations trained other weights than the main thread's");
  assert.equal(more.views, 2, "views 2-4 are read by no epoch of two");
  assert.deepEqual(more.weights, workers.weights, "leaving unread views out changed the weights");
});
