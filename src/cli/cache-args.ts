import type { ParseArgsConfig } from "node:util";
import { relative, resolve } from "node:path";
import { parse, type Arity, type Values } from "./args";
import { SCRATCH_FOLDER } from "../cache/scratch";

export const CACHE_HELP = `tlrun cache ls|verify|gc [options]   the stage cache (runs/.cache): what is in it, whether it is whole, what can go
  tlrun cache ls [--json]                      entries per stage: size, created, last use, the runs that used them
  tlrun cache verify [<pipeline.yaml> | --run ID] [--remove] [--json]
                                               hash every file of every entry (or of one pipeline's or run's);
                                               exit 1 when one is damaged; --remove moves damaged entries aside
  tlrun cache gc [--keep-size 5GB] [--dry-run] [--json]
                                               drop entries no run in runs/ recorded; or, with --keep-size, keep
                                               the most recently used up to that size. Never an entry a stage has
                                               locked, one used in the last 15 minutes, or another host's temporary
  common options:
    --runs-dir DIR    the runs folder whose runs count (default ./runs, as runtime.runs_dir)
    --cache-dir DIR   the stage cache (default <runs-dir>/.cache)
    --scratch-dir DIR fine-tune's scratch folder (default <runs-dir>/.scratch, as runtime.scratch_dir)
    -h, --help        this help`;

type Options = NonNullable<ParseArgsConfig["options"]>;

const COMMON = { "runs-dir": { type: "string" }, "cache-dir": { type: "string" }, "scratch-dir": { type: "string" }, json: { type: "boolean" } } as const;

/** The flags every subcommand takes, plus its own; `--help` prints CACHE_HELP. */
export function cacheOptions<T extends Options>(argv: string[], own: T, positionals: Arity): { values: Values<typeof COMMON & T>; positionals: string[] } {
  return parse(argv, { ...COMMON, ...own }, positionals, CACHE_HELP) as { values: Values<typeof COMMON & T>; positionals: string[] };
}

/** Where the runs, the cache and fine-tune's scratch are, from the flags (relative to the working directory, as `tlrun run` resolves runs_dir). */
export function cachePlaces(values: { "runs-dir"?: string; "cache-dir"?: string; "scratch-dir"?: string }, runsDefault = "runs"): { runsDir: string; root: string; scratch: string } {
  const runsDir = resolve(values["runs-dir"] ?? runsDefault);
  return { runsDir, root: resolve(values["cache-dir"] ?? resolve(runsDir, ".cache")), scratch: resolve(values["scratch-dir"] ?? resolve(runsDir, SCRATCH_FOLDER)) };
}

/** A path as the user would type it from here. */
export const shown = (p: string): string => {
  const r = relative(process.cwd(), p);
  return r && !r.startsWith("..") ? r : p;
};

/** Local time to the minute, for tables. */
export function stamp(ms: number): string {
  const d = new Date(ms);
  const p = (n: number): string => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}

