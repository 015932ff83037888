/**
 * The ETA estimator as pure code on a fake clock: warm-up excluded, nothing shown before the
 * estimate is stable, the error on a steady stage once a tenth of it is done, a change of pace;
 * and the progress lines' ETA token, which a benchmark parses.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Eta, etaToken, formatSeconds, hasEta, progressLine, throttle, trainingWork, TRAINING_ETA } from "../../src/util/progress";

/** A clock the test moves by hand, in milliseconds. */
function fakeClock(): { now: () => number; advance: (seconds: number) => void } {
  let t = 1_000_000;
  return { now: () => t, advance: (s) => (t += s * 1000) };
}

/**
 * Feed a stage of `total` units, one per step, where step i takes `stepSeconds(i)`. Returns what
 * the estimator said after each step and the true time left then.
 */
function replay(total: number, stepSeconds: (i: number) => number, opts = {}): Array<{ done: number; eta: number | undefined; truth: number }> {
  const clock = fakeClock();
  const eta = new Eta(total, { clock: clock.now, ...opts });
  const durations = Array.from({ length: total }, (_, i) => stepSeconds(i));
  const out = [];
  for (let i = 0; i < total; i++) {
    clock.advance(durations[i]!);
    eta.update(i + 1);
    const truth = durations.slice(i + 1).reduce((a, b) => a + b, 0);
    out.push({ done: i + 1, eta: eta.seconds, truth });
  }
  return out;
}

describe("Eta", () => {
  it("shows no estimate during the warm-up and until the rate has been measured a while", () => {
    const seen = replay(200, () => 0.1); // 2 s of warm-up, 3 s to settle: 50 steps
    const firstShown = seen.findIndex((s) => s.eta !== undefined);
    assert.ok(firstShown >= 49, `an ETA was shown after ${firstShown + 1} steps, before 5 s of progress`);
    assert.ok(seen.slice(firstShown).every((s) => s.eta !== undefined), "once stable, an ETA stays shown on a steady stage");
  });

  it("leaves out slow warm-up batches: within 25% (here 1%) once a tenth is done", () => {
    // the first 3 batches build graphs and start workers: 20 s each, then 0.25 s a batch
    const total = 1000;
    const seen = replay(total, (i) => (i < 3 ? 20 : 0.25));
    for (const s of seen.filter((x) => x.done >= total / 10 && x.done < total)) {
      assert.ok(s.eta !== undefined, `no ETA at ${s.done}/${total}`);
      assert.ok(Math.abs(s.eta - s.truth) <= 0.01 * s.truth + 1e-9, `ETA ${s.eta} vs ${s.truth} at ${s.done}`);
    }
    // a rate averaged from the start would have said about 3.4x the truth at 10%
    const atTenth = seen[total / 10 - 1]!;
    assert.ok(Math.abs(atTenth.eta! / atTenth.truth - 1) < 0.01);
  });

  it("stays within 25% on a noisy steady stage once a tenth is done", () => {
    let x = 7;
    const noise = (): number => ((x = (x * 1103515245 + 12345) % 2147483648) / 2147483648) * 0.2 + 0.9; // 0.9-1.1, seeded
    const total = 600;
    const seen = replay(total, (i) => (i < 2 ? 15 : 0.2 * noise()));
    for (const s of seen.filter((v) => v.done >= total / 10 && v.truth > 5)) {
      assert.ok(s.eta !== undefined && Math.abs(s.eta / s.truth - 1) < 0.25, `ETA ${s.eta} vs ${s.truth} at ${s.done}`);
    }
  });

  it("smooths work that arrives in bursts: within 15% once a tenth is done, where a few seconds' window was not", () => {
    // a 4 s cycle: 39 quick units, then a 2.05 s stall (a decode queue refilling); 200 s in all
    const total = 2000;
    const seen = replay(total, (i) => (i % 40 === 39 ? 2.05 : 0.05));
    const worst = Math.max(...seen.filter((v) => v.done >= total / 10 && v.truth > 20).map((v) => Math.abs(v.eta! / v.truth - 1)));
    assert.ok(worst < 0.15, `worst error once a tenth is done: ${(worst * 100).toFixed(0)}%`);
  });

  it("follows a change of pace: after the rate halves, the estimate moves to the new rate", () => {
    const total = 2000;
    const seen = replay(total, (i) => (i < 1000 ? 0.1 : 0.2));
    // just before the change: estimated at the old pace, so short of the truth
    const before = seen[999]!;
    assert.ok(Math.abs(before.eta! - 1000 * 0.1) < 1, `before the change: ${before.eta}`);
    // the window is the later half of the time since warm-up; once it holds only the new pace, the ETA is exact
    const after = seen[1800]!;
    assert.ok(Math.abs(after.eta! - after.truth) <= 0.01 * after.truth, `after the change: ${after.eta} vs ${after.truth}`);
  });

  it("gives a training stage its first estimate 3 s after its first batch reports, and a right one", () => {
    // 500 batches a second, as train-head ran at 100k images; the first batch slow (kernels built)
    const seen = replay(5_000, (i) => (i === 0 ? 1.5 : 0.002), TRAINING_ETA);
    const first = seen.findIndex((s) => s.eta !== undefined);
    const afterFirstBatch = first * 0.002;
    assert.ok(afterFirstBatch >= 3 && afterFirstBatch < 3.1, `first estimate ${afterFirstBatch.toFixed(2)} s after the first batch`);
    assert.ok(Math.abs(seen[first]!.eta! - seen[first]!.truth) <= 0.01 * seen[first]!.truth, `${seen[first]!.eta} vs ${seen[first]!.truth}`);
  });

  it("starts measuring at the first report, so work done before it (a resumed run) does not count as fast progress", () => {
    const clock = fakeClock();
    const eta = new Eta(100, { clock: clock.now, warmupReports: 0, warmupSeconds: 0, settleSeconds: 1 });
    eta.update(60); // 60 units restored from a checkpoint
    for (let i = 61; i <= 70; i++) clock.advance(1), eta.update(i);
    assert.equal(eta.seconds, 30);
    assert.equal(eta.rate, 1);
  });

  it("measures bytes per second over the same window", () => {
    const clock = fakeClock();
    const eta = new Eta(1000, { clock: clock.now });
    assert.equal(eta.rate, undefined);
    for (let i = 1; i <= 100; i++) clock.advance(0.1), eta.update(i, i * 2_000_000);
    assert.ok(Math.abs(eta.rate! - 10) < 1e-9);
    assert.ok(Math.abs(eta.byteRate! - 20_000_000) < 1e-3);
  });

  it("keeps only a bounded number of samples on a long stage", () => {
    const clock = fakeClock();
    const eta = new Eta(1_000_000, { clock: clock.now });
    for (let i = 1; i <= 1_000_000; i++) clock.advance(0.01), eta.update(i);
    assert.ok(Math.abs(eta.seconds! - 0) < 1e-6);
    const kept = (eta as unknown as { samples: unknown[] }).samples.length;
    assert.ok(kept < 1200, `${kept} samples kept`);
  });
});

describe("progress lines", () => {
  const b = { epoch: 2, epochs: 5, batch: 10, batches: 48, loss: 0.41234, images_per_second: 123.44, seconds: 3 };

  it("leaves the ETA token out until there is an estimate, and writes it as 'ETA <formatSeconds>'", () => {
    assert.equal(progressLine(b), "epoch 2/5 batch 10/48 loss 0.4123 123.4 img/s");
    assert.equal(progressLine(b, 75), "epoch 2/5 batch 10/48 loss 0.4123 123.4 img/s ETA 1m15s");
    assert.equal(etaToken(undefined), "");
    assert.match(etaToken(3700), / ETA 1h01m$/);
    assert.equal(formatSeconds(59.6), "1m00s");
  });

  it("labels the validation accuracy with the epoch it comes from", () => {
    assert.match(progressLine(b, undefined, { epoch: 1, valAccuracy: 0.74123 }), / val_acc\(ep1\) 0\.7412 /);
  });

  it("counts a training stage's work in batches over all its epochs", () => {
    assert.deepEqual(trainingWork(b), { done: 58, total: 240 });
  });
});

describe("throttle", () => {
  it("lets a stage's first ETA through at once, then throttles again, and lets the next first one through after a line without", () => {
    const shown: string[] = [];
    const show = throttle((l) => shown.push(l), 60_000, { promptly: hasEta });
    show("1/100 images"); // the first line always passes
    show("2/100 images"); // throttled
    show("3/100 images, 10 img/s, ETA 10s"); // the first estimate: at once
    show("4/100 images, 10 img/s, ETA 9s"); // throttled again
    show.now("frozen activations: 100 in 10s"); // a phase ends without an estimate
    show("epoch 1/2 batch 1/10 loss 1.0000 1.0 img/s ETA 20s"); // the next phase's first estimate
    show("epoch 1/2 batch 2/10 loss 1.0000 1.0 img/s ETA 19s");
    assert.deepEqual(shown, ["1/100 images", "3/100 images, 10 img/s, ETA 10s", "frozen activations: 100 in 10s", "epoch 1/2 batch 1/10 loss 1.0000 1.0 img/s ETA 20s"]);
  });

  it("throttles every line alike without the option", () => {
    const shown: string[] = [];
    const show = throttle((l) => shown.push(l), 60_000);
    show("a");
    show("b ETA 3s");
    assert.deepEqual(shown, ["a"]);
  });
});
