/**
 * `timed(name, fn)`: runs `fn` and adds the seconds it took to `seconds[name]`, so that a finder
 * called in parts (one call per fold, per block) reports its whole time under one name.
 * `onStart(name)` is told as each part begins: the finders hold the event loop for minutes at
 * 100k images, so this is how the terminal learns which one is running.
 */
export function stopwatch(seconds: Record<string, number>, onStart?: (name: string) => void): <T>(name: string, fn: () => T) => T {
  return (name, fn) => {
    onStart?.(name);
    const t0 = performance.now();
    try {
      return fn();
    } finally {
      seconds[name] = (seconds[name] ?? 0) + (performance.now() - t0) / 1000;
    }
  };
}
