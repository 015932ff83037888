import { test } from "node:test";
import { spawnSync } from "node:child_process";
import assert from "node:assert/strict";
import { existsSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { loadConfig } from "../../src/config";
import { execute } from "../../src/executor/execute";
import { PROBE_FILE, type ProbeResult } from "../../src/plan/probe-result";
import { resolveStrategy } from "../../src/plan/strategy-resolve";
import { curveShape, stratifiedSample } from "../../src/stages/probe";
import type { Manifest } from "../../src/data/manifest";
import { tempDir, tinyEmojiDataset, tinyPipeline } from "../helpers";

/** The tiny pipeline under strategy: auto, with the keys the strategy sets left out. */
function autoPipeline(data: string, runs: string, extra = "strategy: auto\n"): string {
  return tinyPipeline(data, runs, extra).replace(/freeze:\n  at: block_16_expand\n/, "").replace(/  fine_tune: .*\n/, "");
}

test("the probe's sample is stratified, seeded and capped per class", () => {
  const items = ["a", "b"].flatMap((cls, label) => Array.from({ length: 10 }, (_, i) => ({ rel: `${cls}/${i}.png`, label, split: i < 7 ? "train" : "val" })));
  const manifest = { classes: ["a", "b"], items } as unknown as Manifest;
  const one = stratifiedSample(manifest, "train", 4, 7);
  assert.deepEqual([one.filter((r) => r.label === 0).length, one.filter((r) => r.label === 1).length], [4, 4]);
  assert.deepEqual(stratifiedSample(manifest, "train", 4, 7), one);
  assert.notDeepEqual(stratifiedSample(manifest, "train", 4, 8), one);
  assert.equal(stratifiedSample(manifest, "val", 99, 7).length, 6);
  assert.equal(curveShape([{ layer: "a", accuracy: 0.5 }, { layer: "b", accuracy: 0.7 }]), "rising");
  assert.equal(curveShape([{ layer: "a", accuracy: 0.8 }, { layer: "b", accuracy: 0.7 }]), "falling");
  assert.equal(curveShape([{ layer: "a", accuracy: 0.5 }, { layer: "b", accuracy: 0.9 }, { layer: "c", accuracy: 0.7 }]), "peaks at b");
});

/** Real google emoji (3 classes, 16 each, 32 px): the probe runs, decides, and is reused. */
test("strategy: auto on tiny real data: the probe runs once, decides the cut, and shows in summary, report and plan", async (t) => {
  const root = tempDir(t);
  const data = tinyEmojiDataset(join(root, "data"), 16);
  const file = join(root, "p.yaml");
  writeFileSync(file, autoPipeline(data, join(root, "runs")));
  const first = await execute(loadConfig(file), { renderer: "silent", checkLeaks: true });
  assert.equal(first.status, "completed");
  const names = first.stages.map((s) => s.name);
  assert.deepEqual(names.slice(0, 4), ["dataset", "weights", "prepare", "probe"]);
  const probeKey = first.stages.find((s) => s.name === "probe")!.key!;
  const probe = JSON.parse(readFileSync(join(root, "runs", ".cache", "probe", probeKey, PROBE_FILE), "utf8")) as ProbeResult;
  assert.deepEqual(probe.depths.map((d) => d.layer), ["block_6_project", "block_10_project", "block_13_project", "out_relu"]);
  assert.deepEqual(probe.depths.map((d) => d.block), ["block_6", "block_10", "block_13", "out_relu"]);
  for (const d of probe.depths) assert.ok(d.accuracy >= 0 && d.accuracy <= 1 && d.dim > 0, JSON.stringify(d));
  assert.equal(probe.classes, 3);
  assert.equal(probe.train_images, first.data!.train);

  const s = first.strategy!;
  assert.ok(s, "summary.json carries the decision");
  assert.equal(s.size, "tiny", "16 images a class (8 or so in train) is below min_per_class_to_fine_tune");
  assert.match(String(s.reason), /training images \(\d+ per class\), top features \(out_relu\) probe at/);
  const resolved = parse(readFileSync(join(first.run_dir, "config.resolved.yaml"), "utf8"));
  assert.equal(resolved.base.cut, s.cut, "the run's config is the explicit config the choice made");
  assert.equal(resolved.strategy, "explicit");
  assert.equal(resolved.train.fine_tune, null, "tiny: no fine-tuning");
  assert.deepEqual(JSON.parse(readFileSync(join(first.run_dir, "report.json"), "utf8")).strategy, s);

  // a second run: decided at plan time from the cached probe, every stage cached
  const plan = resolveStrategy(loadConfig(file));
  assert.notEqual(plan.strategy, "pending");
  assert.ok(plan.plan.stages.every((st) => st.cached), "the plan after the run is all cached");
  const again = await execute(loadConfig(file), { renderer: "silent" });
  assert.deepEqual(again.strategy, s);
  assert.ok(again.stages.every((st) => st.cached));
  // `plan --force` cannot show the cached choice (the forced run probes again), and says why
  const forced = spawnSync(process.execPath, [join(__dirname, "../../../bin/tlrun.js"), "plan", file, "--force"], { encoding: "utf8", env: { ...process.env, CI: "true" } });
  assert.equal(forced.status, 0, forced.stderr);
  assert.match(forced.stdout, /strategy: auto, not decided yet: a forced run probes again, whatever a cached probe chose\./);

  // the table's thresholds and a written base.cut reuse the probe: no probe entry is added
  const probes = () => readdirSync(join(root, "runs", ".cache", "probe")).filter((d) => !d.startsWith(".")).length;
  const big = await execute(loadConfig(file, { overrides: ["strategy={mode: auto, large_per_class: 2}"] }), { renderer: "silent", checkLeaks: true });
  assert.equal(big.strategy!.size, "large", "with 2 a class counting as large, the table fine-tunes");
  assert.ok(big.stages.some((st) => st.name === "fine-tune" && !st.cached));
  // small and similar (any gap counts as similar at a tolerance of 1): a head on the top and every block below it, no fine-tune
  const small = await execute(loadConfig(file, { overrides: ["strategy={mode: auto, min_per_class_to_fine_tune: 2, similar_tolerance: 1}"] }), { renderer: "silent", checkLeaks: true });
  assert.deepEqual([small.strategy!.size, small.strategy!.similarity, small.strategy!.fine_tune, small.strategy!.head_depths], ["small", "similar", false, "blocks"]);
  const smallConfig = parse(readFileSync(join(small.run_dir, "config.resolved.yaml"), "utf8"));
  assert.deepEqual([smallConfig.base.cut, smallConfig.head.depths, smallConfig.train.fine_tune], ["out_relu", "blocks", null]);
  assert.match(String(small.strategy!.reason), /similar, small → head on out_relu and every block below it, no fine-tuning/);
  assert.ok(!small.stages.some((st) => st.name === "fine-tune"));
  assert.ok(small.stages.some((st) => st.name === "extract" && !st.cached), "the head's features are extracted at every block");
  const cut = resolveStrategy(loadConfig(file, { overrides: ["base.cut=block_16_project"] }));
  assert.notEqual(cut.strategy, "pending");
  assert.equal(cut.loaded.config.base.cut, "block_16_project", "a written key wins");
  assert.equal(probes(), 1);
  assert.ok(existsSync(join(again.run_dir, "report.json")));
});

test("strategy: explicit (the default) compiles and keys exactly as before: no probe stage", (t) => {
  const root = tempDir(t);
  const file = join(root, "p.yaml");
  writeFileSync(file, tinyPipeline(join(root, "data"), join(root, "runs")));
  const explicit = resolveStrategy(loadConfig(file));
  assert.equal(explicit.strategy, undefined);
  assert.ok(!explicit.plan.stages.some((s) => s.name === "probe"));
});
