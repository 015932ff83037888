/**
 * The folder benchmark's measuring parts, which decide pass or fail in its table: reading ETAs
 * back from stamped stderr, the line fitted to 100k images, and the process-tree and folder
 * sampling (on a real process tree and real files).
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { etaErrors, parseEta, splitPhases, splitStages } from "../../bench/eta";
import { linearFit } from "../../bench/linear-fit";
import { dirBytes, samplesFromCsv, samplesToCsv, treeRss } from "../../bench/sampler";
import { peaksByStage } from "../../bench/stage-peaks";
import { formatSeconds } from "../../src/util/progress";

describe("ETA read-back", () => {
  it("parses every form formatSeconds prints, and nothing else", () => {
    // formatSeconds drops the seconds from an hour on: 3700 s shows as 1h01m
    for (const [s, read] of [[0, 0], [45, 45], [75, 75], [599, 599], [3599, 3599], [3700, 3660], [7322, 7320]] as const)
      assert.equal(parseEta(`features 1/2, 3 img/s, ETA ${formatSeconds(s)}`), read, formatSeconds(s));
    assert.equal(parseEta("epoch 1/2 batch 0/42 loss 2.2 1.0 img/s ETA ?"), undefined);
    assert.equal(parseEta("frozen activations: 32/288 (1 view of 288 images)"), undefined);
  });

  it("splits stages at their task lines, including a failed one", () => {
    const lines = [
      { t: 0, text: "❯ prepare" }, { t: 50, text: "› scanning /x" }, { t: 100, text: "✔ prepare" },
      { t: 100, text: "❯ fine-tune" }, { t: 900, text: "✖ fine-tune: interrupted" },
    ];
    assert.deepEqual(splitStages(lines).map((s) => [s.stage, s.start, s.end, s.lines.length]), [["prepare", 0, 100, 1], ["fine-tune", 100, 900, 0]]);
  });

  it("judges the last ETA shown by each fraction against the stage's true end", () => {
    // a 100 s stage starting at t=10 s: at 5 s it says 5m00s left (way off), at 20 s it says 1m20s (exact)
    const lines = [
      { t: 10_000, text: "❯ extract" },
      { t: 15_000, text: "› features 32/4566, 167.1 img/s, ETA 5m00s" },
      { t: 30_000, text: "› features 736/4566, 138.3 img/s, ETA 1m20s" },
      { t: 110_000, text: "✔ extract" },
      { t: 110_000, text: "❯ evaluate" }, { t: 120_000, text: "› 32/288 test images" }, { t: 130_000, text: "✔ evaluate" },
    ];
    const [extract, evaluate] = etaErrors(lines, [0.1, 0.25]);
    assert.equal(extract!.seconds, 100);
    assert.equal(extract!.etas, 2);
    assert.deepEqual(extract!.readings[0], { at: 0.1, error: (5 + 300 - 100) / 100, shownAt: 0.05 });
    assert.deepEqual(extract!.readings[1], { at: 0.25, error: 0, shownAt: 0.2 });
    assert.deepEqual(extract!.first, { shownAt: 0.05, error: 2.05 });
    assert.deepEqual(evaluate!.readings, [{ at: 0.1 }, { at: 0.25 }]);
    assert.equal(evaluate!.first, undefined);
  });
});

describe("splitPhases", () => {
  it("judges fine-tune's activations and its training apart, cut at the note that ends the first", () => {
    const lines = [
      { t: 0, text: "❯ fine-tune" },
      { t: 5_000, text: "› frozen activations 900/4278 (…), 180.0 img/s, ETA 19s" },
      { t: 24_000, text: "› frozen activations: 4278 in 24s, 178.3 img/s" },
      { t: 40_000, text: "› epoch 1/8 loss 0.93 val_acc 0.66 227.2 img/s ETA 1m00s" },
      { t: 100_000, text: "✔ fine-tune" },
    ];
    assert.deepEqual(splitPhases(lines).map((s) => [s.stage, s.start, s.end, s.lines.length]), [["fine-tune (activations)", 0, 24_000, 1], ["fine-tune (training)", 24_000, 100_000, 1]]);
    const [act, train] = etaErrors(lines, [0.25]);
    assert.ok(Math.abs(act!.readings[0]!.error!) < 1e-9); // 5 s + 19 s = 24 s, the phase's true end
    assert.ok(Math.abs(train!.readings[0]!.error!) < 1e-9); // 16 s in + 60 s left = the 76 s the phase took
  });

  it("leaves a stage without the note whole", () => {
    const lines = [{ t: 0, text: "❯ fine-tune" }, { t: 10, text: "› epoch 1/8 ETA 5s" }, { t: 20, text: "✔ fine-tune" }];
    assert.deepEqual(splitPhases(lines).map((s) => s.stage), ["fine-tune"]);
  });
});

describe("linearFit", () => {
  it("goes through two points and extrapolates", () => {
    const f = linearFit([[2500, 1200], [10000, 1500]]);
    assert.ok(Math.abs(f.at(100_000) - 5100) < 1e-6);
    assert.ok(Math.abs(f.slope * 1000 - 40) < 1e-9);
  });
  it("refuses what cannot make a line", () => {
    assert.throws(() => linearFit([[1, 1]]), /two points/);
    assert.throws(() => linearFit([[1, 1], [1, 2]]), /two different/);
  });
});

describe("sampler", () => {
  it("sums RSS over a real process tree and counts folder bytes on disk", async () => {
    const child = spawn("sh", ["-c", "sleep 5 & sleep 5 & wait"], { stdio: "ignore" });
    await new Promise((r) => setTimeout(r, 300));
    const rss = treeRss(child.pid!);
    child.kill();
    assert.equal(rss.procs, 3);
    assert.ok(rss.tree_mb > rss.max_proc_mb && rss.max_proc_mb > 0, JSON.stringify(rss));
    const dir = mkdtempSync(join(tmpdir(), "tlrun-bench-sampler-"));
    try {
      mkdirSync(join(dir, "a", "b"), { recursive: true });
      writeFileSync(join(dir, "a", "b", "x"), Buffer.alloc(1 << 20, 1));
      const bytes = dirBytes(dir);
      assert.ok(bytes >= 1 << 20 && bytes < (1 << 20) + 64 * 1024, String(bytes));
      assert.equal(dirBytes(join(dir, "missing")), 0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("peaksByStage", () => {
  it("gives each stage the peaks of the samples taken while it ran", () => {
    const lines = [{ t: 0, text: "❯ extract" }, { t: 1000, text: "✔ extract" }, { t: 1000, text: "❯ train-head" }, { t: 2000, text: "✔ train-head" }];
    const sample = (t: number, mb: number, tmp = 0) => ({ t, tree_mb: mb, max_proc_mb: mb, procs: 1, bytes: { tmp } });
    const peaks = peaksByStage([sample(500, 700), sample(900, 800, 2 ** 20), sample(1500, 1200), sample(2500, 900)], lines);
    assert.deepEqual(peaks, { extract: { tree_mb: 800, tmp_mb: 1 }, "train-head": { tree_mb: 1200, tmp_mb: 0 }, "(outside stages)": { tree_mb: 900, tmp_mb: 0 } });
  });
});

describe("samples as CSV", () => {
  it("round-trips, to the 0.1 MB the CSV keeps", () => {
    const samples = [{ t: 0, tree_mb: 312.46, max_proc_mb: 300.04, procs: 2, bytes: { tmp: 4096, scratch: 0 } }, { t: 251, tree_mb: 1200, max_proc_mb: 1200, procs: 1, bytes: { tmp: 0, scratch: 123 } }];
    assert.deepEqual(samplesFromCsv(samplesToCsv(samples)), [{ ...samples[0], tree_mb: 312.5, max_proc_mb: 300 }, samples[1]]);
  });
});
