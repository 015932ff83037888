import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AuditEta } from "../../src/stages/audit-eta";

/** A clock the test moves by hand, in milliseconds. */
function manualClock(): { now: () => number; advance: (s: number) => void } {
  let t = 0;
  return { now: () => t, advance: (s) => void (t += s * 1000) };
}

/** Signatures at `rate` a second, reported ten times a second, from `from` to `to`. */
function sign(eta: AuditEta, clock: ReturnType<typeof manualClock>, from: number, to: number, rate: number): void {
  for (let done = from; done < to; ) {
    clock.advance(0.1);
    done = Math.min(to, done + rate / 10);
    eta.signatures(done);
  }
}

describe("AuditEta", () => {
  it("gives no estimate before the finders are priced, then the signatures' time left plus the finders'", () => {
    const clock = manualClock();
    const eta = new AuditEta(10_000, 1_000, clock.now);
    sign(eta, clock, 0, 1_000, 100);
    assert.equal(eta.seconds, undefined, "the signatures alone would be half the truth");
    clock.advance(5); // pricing the finders holds the event loop
    eta.estimated({ neighbours: 40, phash_pairs: 30 });
    // before the rest of the signatures has a rate of its own, the sample's rate counts
    assert.ok(Math.abs(eta.seconds! - (90 + 70)) < 1, `${eta.seconds}`);
    sign(eta, clock, 1_000, 5_000, 100);
    assert.ok(Math.abs(eta.seconds! - (50 + 70)) < 2, `${eta.seconds}`);
    sign(eta, clock, 5_000, 10_000, 100);
    assert.ok(Math.abs(eta.seconds! - 70) < 1, `${eta.seconds}`);
  });

  it("counts each finder down while it runs and drops it once the next starts", () => {
    const clock = manualClock();
    const eta = new AuditEta(10_000, 1_000, clock.now);
    sign(eta, clock, 0, 1_000, 100);
    eta.estimated({ neighbours: 40, phash_pairs: 30, label_issues: 10 });
    sign(eta, clock, 1_000, 10_000, 100);
    eta.phase("neighbours");
    clock.advance(15);
    assert.equal(Math.round(eta.seconds!), 25 + 30 + 10);
    clock.advance(60); // it overran its estimate: what is left of it counts as nothing, not as negative
    assert.equal(Math.round(eta.seconds!), 30 + 10);
    eta.phase("phash_pairs");
    clock.advance(10);
    assert.equal(Math.round(eta.seconds!), 20 + 10);
    eta.phase("label_issues");
    assert.equal(Math.round(eta.seconds!), 10);
  });

  it("is the signatures' estimate alone when the finders are too quick to price", () => {
    const clock = manualClock();
    const eta = new AuditEta(2_000, 2_000, clock.now);
    eta.estimated({});
    sign(eta, clock, 0, 1_000, 100);
    assert.ok(Math.abs(eta.seconds! - 10) < 0.5, `${eta.seconds}`);
  });
});
