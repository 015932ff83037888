import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { LoadedConfig, PipelineConfig } from "../../src/config/types";
import { RunState } from "../../src/executor/run-state";

function loaded(runsDir: string): LoadedConfig {
  const config = { name: "state-test", runtime: { runs_dir: runsDir } } as unknown as PipelineConfig;
  return { config, file: join(runsDir, "p.yaml"), baseDir: runsDir, locate: () => undefined };
}

const epoch = { phase: "head", epoch: 1, epochs: 1, global_epoch: 1, loss: 0.7, accuracy: 0.5, val_loss: 0.8, val_accuracy: 0.5, learning_rate: 0.01, images_per_second: 10, seconds: 1 };

test("a run's end writes report.html and plots/ with no tracker; a report that cannot be written is a warning, not a lost run", async (t) => {
  const root = mkdtempSync(join(tmpdir(), "tlrun-state-"));
  t.after(() => rmSync(root, { recursive: true, force: true }));

  const ok = new RunState(loaded(root), []);
  ok.epoch(epoch, false);
  ok.settle(undefined);
  await ok.end();
  assert.ok(existsSync(join(ok.record.dir, "report.html")));
  assert.ok(existsSync(join(ok.record.dir, "plots", "training_curves.png")));

  const broken = new RunState(loaded(root), []);
  broken.epoch(epoch, false);
  writeFileSync(join(broken.record.dir, "plots"), "a file where the plots folder goes");
  broken.settle(undefined);
  const summary = await broken.end();
  assert.equal(summary.status, "completed");
  assert.match(summary.warnings.join("\n"), /report\.html could not be written/);
  const onDisk = JSON.parse(readFileSync(join(broken.record.dir, "summary.json"), "utf8"));
  assert.equal(onDisk.status, "completed");
  assert.match(onDisk.warnings.join("\n"), /report\.html could not be written/);
});
