/**
 * `timed(name, fn)`: runs `fn` and adds the seconds it took to `seconds[name]`, so that a finder
 * called in parts (one call per fold, per block) reports its whole time under one name.
 */
export function stopwatch(seconds: Record<string, number>): <T>(name: string, fn: () => T) => T {
  return (name, fn) => {
    const t0 = performance.now();
    try {
      return fn();
    } finally {
      seconds[name] = (seconds[name] ?? 0) + (performance.now() - t0) / 1000;
    }
  };
}
