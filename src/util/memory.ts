import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

let gc: (() => void) | undefined;

/**
 * A full garbage collection now. The stages of a run share one process, and a large typed array
 * a finished stage dropped (the audit's feature rows: 1 GB at 100k images) stays mapped until V8
 * next collects, which a stage whose work is in native tensors may not cause for minutes: at 100k
 * images train-head peaked 1 GB above its own needs with the audit's rows still held. Called
 * between stages; it costs milliseconds to a fraction of a second.
 */
export function collectGarbage(): void {
  if (!gc) {
    setFlagsFromString("--expose-gc"); // takes effect for the context made next
    gc = runInNewContext("gc") as () => void;
  }
  gc();
}
