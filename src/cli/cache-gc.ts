import { existsSync } from "node:fs";
import { EXIT, UsageError } from "../errors";
import { CHECKPOINT_KEEP_MS, applyGc, planGc } from "../cache/gc";
import { listEntries, listLeftovers, type Leftover } from "../cache/inventory";
import { listScratch } from "../cache/scratch";
import { formatBytes, parseBytes } from "../cache/size";
import { entryId, entryUsers } from "../runs/cache-use";
import { CACHE_HELP, cacheOptions, cachePlaces, shown, stamp } from "./cache-args";

/** `tlrun cache gc`: drop what no kept run needs (or what exceeds --keep-size), and say what it freed. */
export async function cacheGc(argv: string[]): Promise<number> {
  const { values, positionals } = cacheOptions(argv, { "keep-size": { type: "string" }, "dry-run": { type: "boolean" } }, { min: 0 });
  if (positionals.length) throw new UsageError(`tlrun cache gc takes no arguments, got ${positionals.join(" ")}\nusage: ${CACHE_HELP}`);
  const keepBytes = values["keep-size"] === undefined ? undefined : parseBytes(values["keep-size"]);
  if (values["keep-size"] !== undefined && keepBytes === undefined)
    throw new UsageError(`--keep-size ${values["keep-size"]} is not a size; write e.g. 5GB, 500MB or 2GiB`);
  const { runsDir, root, scratch } = cachePlaces(values);
  if (keepBytes === undefined && !existsSync(runsDir))
    throw new UsageError(`no runs folder at ${runsDir}: without it every entry would count as unneeded (pass --runs-dir, or --keep-size)`);
  const { users, runs } = entryUsers(runsDir);
  const entries = listEntries(root);
  const plan = planGc(entries, [...listLeftovers(root), ...listScratch(scratch)], { needed: new Set(users.keys()), keepBytes });
  const dry = !!values["dry-run"];
  const result = dry ? undefined : applyGc(plan);
  const dropBytes = [...plan.drop, ...plan.leftovers].reduce((a, x) => a + x.bytes, 0);
  const freed = result?.freed ?? dropBytes;
  const keptEntries = entries.length - plan.drop.length;
  const keptBytes = entries.reduce((a, e) => a + e.bytes, 0) - plan.drop.reduce((a, e) => a + e.bytes, 0);
  if (values.json) {
    process.stdout.write(JSON.stringify({
      cache_dir: root, runs_dir: runsDir, runs, dry_run: dry, mode: keepBytes === undefined ? "unneeded" : "keep-size", ...(keepBytes !== undefined ? { keep_bytes: keepBytes } : {}),
      removed: plan.drop.map((e) => ({ stage: e.stage, key: e.key, bytes: e.bytes })), leftovers: plan.leftovers.map((l) => ({ kind: l.kind, path: l.path, bytes: l.bytes })),
      spared: plan.spared.map((s) => ({ stage: s.entry.stage, key: s.entry.key, reason: s.reason })), foreign_temporaries: plan.foreign.map((l) => l.path), resumable_checkpoints: plan.resumable.map((l) => l.path),
      freed_bytes: freed, kept_entries: keptEntries, kept_bytes: keptBytes, skipped: result?.skipped ?? [],
    }) + "\n");
    return EXIT.ok;
  }
  const verb = dry ? "would remove" : "removed";
  const why = keepBytes === undefined ? "no run uses it" : "over --keep-size";
  const out: string[] = [];
  for (const e of plan.drop) out.push(`${verb} ${e.stage}/${e.key.slice(0, 12)}  ${formatBytes(e.bytes).padStart(8)}  last used ${stamp(e.lastUsed)}, ${e.problem ? `unreadable (${e.problem})` : why}`);
  for (const l of plan.leftovers) out.push(`${verb} ${shown(l.path)}  ${formatBytes(l.bytes)}  (${leftoverReason(l)})`);
  for (const s of plan.spared) out.push(`kept ${s.entry.stage}/${s.entry.key.slice(0, 12)}: ${s.reason}`);
  if (plan.resumable.length) out.push(`kept ${plan.resumable.length} checkpoint${plan.resumable.length === 1 ? "" : "s"} of interrupted training (${formatBytes(plan.resumable.reduce((a, l) => a + l.bytes, 0))}): re-running the run resumes from ${plan.resumable.length === 1 ? "it" : "them"}; gc drops one unused for ${CHECKPOINT_KEEP_MS / 86_400_000} days`);
  if (plan.foreign.length) out.push(`left ${plan.foreign.length} temporar${plan.foreign.length === 1 ? "y" : "ies"} of running stages or other hosts alone`);
  for (const s of result?.skipped ?? []) out.push(`skipped ${s}`);
  const count = plan.drop.length + plan.leftovers.length;
  out.push(`${dry ? "would free" : "freed"} ${formatBytes(freed)} (${count} folder${count === 1 ? "" : "s"}); kept ${keptEntries} entries, ${formatBytes(keptBytes)}` +
    (keepBytes === undefined ? ` (used by the ${runs} runs in ${shown(runsDir)}/)` : ` (the most recently used, up to ${formatBytes(keepBytes)})`));
  process.stdout.write(out.join("\n") + "\n");
  return EXIT.ok;
}

function leftoverReason(l: Leftover): string {
  if (l.kind === "damaged") return "damaged entry moved aside";
  if (l.kind === "temporary") return "temporary of a process gone";
  if (l.kind === "scratch") return "fine-tune scratch of a process gone";
  return l.obsolete ? "checkpoint of a stage whose entry is committed" : `checkpoint unused for ${CHECKPOINT_KEEP_MS / 86_400_000} days`;
}
