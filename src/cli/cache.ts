import { existsSync } from "node:fs";
import { EXIT, UsageError, didYouMean } from "../errors";
import { listEntries, listLeftovers, temporaryLive, type EntryInfo } from "../cache/inventory";
import { listScratch } from "../cache/scratch";
import { pidAlive } from "../util/pid";
import { formatBytes } from "../cache/size";
import { entryId, entryUsers } from "../runs/cache-use";
import { CACHE_HELP, cacheOptions, cachePlaces, shown, stamp } from "./cache-args";
import { cacheGc } from "./cache-gc";
import { cacheVerify } from "./cache-verify";

const SUBCOMMANDS = ["ls", "verify", "gc"] as const;

/** `tlrun cache <sub>`: route to ls, verify or gc. */
export async function cacheCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (!sub || sub === "--help" || sub === "-h" || sub === "help") {
    process.stdout.write(CACHE_HELP + "\n");
    return sub ? EXIT.ok : EXIT.usage;
  }
  if (sub === "ls") return cacheLs(rest);
  if (sub === "verify") return cacheVerify(rest);
  if (sub === "gc") return cacheGc(rest);
  throw new UsageError(`unknown cache command '${sub}'. ${didYouMean(sub, [...SUBCOMMANDS])}\nusage: ${CACHE_HELP}`);
}

function runsCell(ids: string[]): string {
  if (!ids.length) return "-";
  return ids.length === 1 ? ids[0]! : `${ids.length} (${ids[ids.length - 1]}, …)`;
}

/** `tlrun cache ls`: every entry with its size, dates and users, and the totals. */
async function cacheLs(argv: string[]): Promise<number> {
  const { values, positionals } = cacheOptions(argv, {}, { min: 0 });
  if (positionals.length) throw new UsageError(`tlrun cache ls takes no arguments, got ${positionals.join(" ")}\nusage: ${CACHE_HELP}`);
  const { runsDir, root, scratch: scratchDir } = cachePlaces(values);
  const entries = listEntries(root);
  const leftovers = listLeftovers(root);
  const scratch = listScratch(scratchDir);
  const scratchGone = scratch.filter((l) => !temporaryLive(l, pidAlive));
  const { users, runs } = entryUsers(runsDir);
  const usersOf = (e: EntryInfo): string[] => users.get(entryId(e.stage, e.key)) ?? [];
  const bytes = entries.reduce((a, e) => a + e.bytes, 0);
  const unused = entries.filter((e) => !usersOf(e).length);
  const aside = leftovers.filter((l) => l.kind === "damaged");
  const temps = leftovers.filter((l) => l.kind === "temporary");
  const checkpoints = leftovers.filter((l) => l.kind === "checkpoint");
  const sum = (xs: Array<{ bytes: number }>): number => xs.reduce((a, x) => a + x.bytes, 0);
  if (values.json) {
    process.stdout.write(JSON.stringify({
      cache_dir: root, runs_dir: runsDir, scratch_dir: scratchDir, runs,
      entries: entries.map((e) => ({
        stage: e.stage, key: e.key, bytes: e.bytes, created: e.createdAt ?? null, last_used: new Date(e.lastUsed).toISOString(),
        runs: usersOf(e), digests: e.digests, locked: e.locked, ...(e.problem ? { problem: e.problem } : {}),
      })),
      totals: { entries: entries.length, bytes, unused_entries: unused.length, unused_bytes: sum(unused), damaged_aside: aside.length, damaged_aside_bytes: sum(aside), temporaries: temps.length, temporary_bytes: sum(temps), checkpoints: checkpoints.length, checkpoint_bytes: sum(checkpoints), scratch: scratch.length, scratch_bytes: sum(scratch), scratch_abandoned: scratchGone.length },
    }) + "\n");
    return EXIT.ok;
  }
  if (!existsSync(root)) {
    process.stdout.write(`no stage cache at ${shown(root)} (pass --runs-dir or --cache-dir)\n`);
    return EXIT.ok;
  }
  const rows = entries.map((e) => [e.stage, e.key.slice(0, 12) + (e.digests || e.problem ? "" : "*"), formatBytes(e.bytes), e.createdAt ? stamp(Date.parse(e.createdAt)) : "?", stamp(e.lastUsed), (e.problem ? `unreadable: ${e.problem}; ` : "") + (e.locked ? "locked; " : "") + runsCell(usersOf(e))]);
  const head = ["STAGE", "KEY", "SIZE", "CREATED", "LAST USE", "RUNS"];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]): string => r.map((c, i) => (i === 2 ? c.padStart(widths[i]!) : i === r.length - 1 ? c : c.padEnd(widths[i]!))).join("  ");
  const out = [line(head), ...rows.map(line)];
  const byStage = new Map<string, EntryInfo[]>();
  for (const e of entries) byStage.set(e.stage, [...(byStage.get(e.stage) ?? []), e]);
  out.push("", `per stage: ${[...byStage].map(([s, es]) => `${s} ${es.length} (${formatBytes(sum(es))})`).join(" · ") || "none"}`);
  const usage = unused.length
    ? `${unused.length} used by none of the ${runs} runs in ${shown(runsDir)}/ (${formatBytes(sum(unused))}; tlrun cache gc drops them)`
    : `each used by some of the ${runs} runs in ${shown(runsDir)}/`;
  out.push(`total: ${entries.length} entries, ${formatBytes(bytes)} in ${shown(root)}/; ${usage}`);
  if (aside.length) out.push(`${aside.length} damaged entr${aside.length === 1 ? "y" : "ies"} moved aside (${formatBytes(sum(aside))}); tlrun cache gc deletes ${aside.length === 1 ? "it" : "them"}`);
  if (temps.length) out.push(`${temps.length} temporar${temps.length === 1 ? "y" : "ies"} of stages being written or abandoned (${formatBytes(sum(temps))})`);
  if (checkpoints.length) out.push(`${checkpoints.length} checkpoint${checkpoints.length === 1 ? "" : "s"} of interrupted training (${formatBytes(sum(checkpoints))}): re-running the run resumes from ${checkpoints.length === 1 ? "it" : "them"}`);
  if (scratch.length) {
    const gone = scratchGone.length ? `; ${scratchGone.length} of processes gone (${formatBytes(sum(scratchGone))}), which tlrun cache gc or the next run removes` : "";
    out.push(`${scratch.length} folder${scratch.length === 1 ? "" : "s"} of fine-tune scratch in ${shown(scratchDir)}/ (${formatBytes(sum(scratch))})${gone}`);
  }
  if (entries.some((e) => !e.digests && !e.problem)) out.push("* recorded before digests: checked by size only (tlrun cache verify cannot check their content)");
  process.stdout.write(out.join("\n") + "\n");
  return EXIT.ok;
}
