import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { RunSummary } from "./record";

/** A cache entry's name in the maps below: `<stage>/<key>`. */
export const entryId = (stage: string, key: string): string => `${stage}/${key}`;

/**
 * Which cache entries the runs in `runsDir` used: every stage a run's summary records with its
 * key (cached or computed), whatever the run's status. A run still going has recorded the stages
 * it finished, and holds the lock of the one it computes.
 */
export function entryUsers(runsDir: string): { users: Map<string, string[]>; runs: number } {
  const users = new Map<string, string[]>();
  let runs = 0;
  if (!existsSync(runsDir)) return { users, runs };
  for (const d of readdirSync(runsDir, { withFileTypes: true })) {
    if (!d.isDirectory() || d.name.startsWith(".")) continue;
    const summary = readSummary(join(runsDir, d.name, "summary.json"));
    if (!summary) continue;
    runs++;
    for (const s of summary.stages ?? []) {
      if (typeof s.key !== "string") continue;
      const id = entryId(s.name, s.key);
      users.set(id, [...(users.get(id) ?? []), summary.run_id ?? d.name]);
    }
  }
  for (const list of users.values()) list.sort();
  return { users, runs };
}

function readSummary(path: string): RunSummary | undefined {
  try {
    const s = JSON.parse(readFileSync(path, "utf8")) as RunSummary;
    return s && typeof s === "object" && Array.isArray(s.stages) ? s : undefined;
  } catch {
    return undefined; // no summary (not a run folder) or one being written
  }
}

/** The cache entries one run recorded, as `<stage>/<key>`. */
export function runEntries(runDir: string): string[] {
  const s = readSummary(join(runDir, "summary.json"));
  return (s?.stages ?? []).filter((x) => typeof x.key === "string").map((x) => entryId(x.name, x.key!));
}
