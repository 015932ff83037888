import type { LoadedConfig } from "../config/types";
import { EXIT, UsageError } from "../errors";
import { listEntries, type EntryInfo } from "../cache/inventory";
import { formatBytes } from "../cache/size";
import { StageCache } from "../cache/store";
import { verifyEntry, type VerifyResult } from "../cache/verify";
import { loadPipeline } from "../executor/load";
import { resolve } from "../plan/resolve";
import { runsDirOf } from "../plan/paths";
import { entryId, runEntries } from "../runs/cache-use";
import { findRun } from "../tracking/local-runs";
import { throttle } from "../util/progress";
import { CACHE_HELP, cacheOptions, cachePlaces, shown } from "./cache-args";

/** The entries to check: all, or a run's (from its summary), or a pipeline's (its planned keys). */
function selectEntries(all: EntryInfo[], runsDir: string, opts: { run?: string; loaded?: LoadedConfig; root: string }): EntryInfo[] {
  let wanted: Set<string> | undefined;
  if (opts.run) wanted = new Set(runEntries(findRun(runsDir, opts.run)));
  if (opts.loaded) {
    const plan = resolve(opts.loaded, new StageCache(opts.root));
    wanted = new Set(plan.stages.filter((s) => !s.source && s.key).map((s) => entryId(s.name, s.key!)));
  }
  return wanted ? all.filter((e) => wanted.has(entryId(e.stage, e.key))) : all;
}

/** `tlrun cache verify`: hash every file of the selected entries against their recorded digests. */
export async function cacheVerify(argv: string[]): Promise<number> {
  const { values, positionals } = cacheOptions(argv, { run: { type: "string" }, remove: { type: "boolean" }, set: { type: "string", multiple: true } }, { min: 0 });
  if (positionals.length > 1 || (positionals.length && values.run)) throw new UsageError(`give one pipeline file or --run ID, not both\nusage: ${CACHE_HELP}`);
  const loaded = positionals[0] ? loadPipeline(positionals[0], { overrides: values.set ?? [] }) : undefined;
  const { runsDir, root } = cachePlaces(values, loaded ? runsDirOf(loaded) : "runs");
  const entries = selectEntries(listEntries(root), runsDir, { run: values.run, loaded, root });
  const total = entries.reduce((a, e) => a + e.bytes, 0);
  const tty = !!process.stderr.isTTY && !values.json;
  const t0 = performance.now();
  let shownOnce = false;
  // progress only once it takes a while: a line every 10 s on a pipe, a live line on a terminal
  const line = throttle((l) => process.stderr.write(tty ? `\r${l}\x1b[K` : `${l}\n`), tty ? 200 : 10_000);
  const show = (l: string): void => void (performance.now() - t0 > 1000 && ((shownOnce = true), line(l)));
  let done = 0;
  const results: VerifyResult[] = [];
  for (const [i, e] of entries.entries()) {
    show(`verifying ${i + 1}/${entries.length} entries, ${formatBytes(done)} of ${formatBytes(total)}`);
    results.push(verifyEntry(e));
    done += e.bytes;
  }
  if (tty && shownOnce) process.stderr.write("\r\x1b[K");
  const damaged = results.filter((r) => r.status === "damaged");
  const legacy = results.filter((r) => r.status === "legacy");
  const cache = new StageCache(root);
  const moved = new Map<VerifyResult, string>();
  if (values.remove)
    for (const r of damaged) {
      if (r.entry.locked) continue; // being recomputed: its commit replaces it
      const to = cache.moveAside(r.entry.stage, r.entry.key);
      if (to) moved.set(r, to);
    }
  const seconds = (performance.now() - t0) / 1000;
  if (values.json) {
    process.stdout.write(JSON.stringify({
      cache_dir: root, entries: entries.length, bytes: total, seconds, ok: results.filter((r) => r.status === "ok").length,
      damaged: damaged.map((r) => ({ stage: r.entry.stage, key: r.entry.key, detail: r.detail, ...(moved.has(r) ? { moved_to: moved.get(r) } : {}) })),
      legacy: legacy.map((r) => ({ stage: r.entry.stage, key: r.entry.key })),
    }) + "\n");
    return damaged.length ? EXIT.runFailed : EXIT.ok;
  }
  const out: string[] = [];
  for (const r of damaged) {
    const what = moved.has(r) ? `; moved aside to ${shown(moved.get(r)!)}` : r.entry.locked ? "; locked (being recomputed), left in place" : "";
    out.push(`damaged: ${r.entry.stage}/${r.entry.key.slice(0, 12)} (${r.detail})${what}`);
  }
  out.push(`verified ${entries.length} entries, ${formatBytes(total)} in ${seconds.toFixed(1)} s (${shown(root)}/): ${results.length - damaged.length - legacy.length} ok, ${damaged.length} damaged` +
    (legacy.length ? `, ${legacy.length} recorded before digests (sizes match; content not checkable)` : ""));
  if (damaged.length && !values.remove) out.push("the next run recomputes a damaged entry by itself; --remove moves them aside now");
  process.stdout.write(out.join("\n") + "\n");
  return damaged.length ? EXIT.runFailed : EXIT.ok;
}
