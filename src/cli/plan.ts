import { loadPipeline } from "../executor/load";
import { EXIT, UsageError } from "../errors";
import type { PipelineConfig } from "../config/types";
import { classWarnings, imbalance, planCounts, type PlanCounts } from "../plan/class-counts";
import type { Plan, PlannedStage } from "../plan/resolve";
import { resolveStrategy, type StrategyPlan } from "../plan/strategy-resolve";
import { formatSweepPlan, planSweep } from "../sweep/plan";
import { JSON_OPTION, SET_OPTION, parse } from "./args";
import { LARGE_CACHE_BYTES, listEntries } from "../cache/inventory";
import { formatBytes } from "../cache/size";
import { shown } from "./cache-args";
import { stackedDropout } from "../training/head";
import { runsDirOf } from "../plan/paths";
import { scratchEstimate, type ScratchEstimate } from "../plan/scratch-size";
import type { LoadedConfig } from "../config/types";
import { groupLines, leaksByOption, splitSourceLine } from "./plan-groups";
import { isGrouped } from "../data/group-of";

/**
 * Where the run records go: runtime.runs_dir is relative to the working directory, not the
 * pipeline file, which a reader of the YAML may not expect; the line shows what it resolved to.
 */
function formatRunsDir(loaded: LoadedConfig): string {
  return `runs: ${runsDirOf(loaded)}/ (runtime.runs_dir '${loaded.config.runtime.runs_dir}', relative to the working directory)\n`;
}

/** Where fine-tune's scratch files go and how large they get, from the freeze point's activations. */
function formatScratch(e: ScratchEstimate | undefined): string {
  if (!e) return "";
  const where = `${shown(e.dir)}/ (runtime.scratch_dir; removed when the stage ends)`;
  if (e.bytes === undefined) return `scratch: fine-tune's frozen activations go to ${where}; size unknown: ${e.note}\n`;
  if (e.note) return `scratch: none: ${e.note} (it would use ${shown(e.dir)}/, runtime.scratch_dir)\n`;
  const views = e.train_views ? `${e.images!.train} train images x ${e.train_views} view${e.train_views === 1 ? "" : "s"} + ${e.images!.val} val` : `${e.images!.val} val images (train views are augmented afresh each epoch)`;
  return `scratch: fine-tune writes about ${formatBytes(e.bytes)} of frozen activations to ${where}: ${views}, ${formatBytes(e.bytes_per_image!)} each\n`;
}

/** How big the stage cache is and how much of it this plan reuses. */
function cacheUse(plan: Plan): { dir: string; bytes: number; entries: number; reused_entries: number; reused_bytes: number } {
  const entries = listEntries(plan.cache.root);
  const hits = new Set(plan.stages.filter((s) => !s.source && s.cached && s.key).map((s) => `${s.name}/${s.key}`));
  const reused = entries.filter((e) => hits.has(`${e.stage}/${e.key}`));
  const sum = (xs: Array<{ bytes: number }>): number => xs.reduce((a, e) => a + e.bytes, 0);
  return { dir: plan.cache.root, bytes: sum(entries), entries: entries.length, reused_entries: reused.length, reused_bytes: sum(reused) };
}

/** One line on the cache, and a hint to collect it once it is large. */
function formatCacheUse(c: ReturnType<typeof cacheUse>): string {
  const line = `cache: ${formatBytes(c.bytes)} in ${c.entries} entr${c.entries === 1 ? "y" : "ies"} (${shown(c.dir)}/); this plan reuses ${c.reused_entries} entr${c.reused_entries === 1 ? "y" : "ies"}, ${formatBytes(c.reused_bytes)}\n`;
  return c.bytes > LARGE_CACHE_BYTES ? `${line}  the cache is over ${formatBytes(LARGE_CACHE_BYTES)}: 'tlrun cache gc' drops the entries no run in runs/ needs ('tlrun cache ls' lists them)\n` : line;
}

function status(s: PlannedStage, plan: Plan): string {
  if (s.source && s.cached) return "present";
  if (s.name === "dataset") return plan.dataset.buildable ? "will build" : "missing";
  if (s.source) return "will fetch";
  return s.cached ? "cached" : "will run";
}

/** The class counts as `tlrun plan --json` prints them: per split and class, and the imbalance warning. */
function countsJson(counts: PlanCounts, config: PipelineConfig): Record<string, unknown> {
  const warnings = classWarnings(counts, config);
  const known = counts.known
    ? { split_source: splitSourceLine(counts, config).replace(/^split: /, ""), class_counts: counts.counts, imbalance_ratio: imbalance(counts)?.ratio ?? null, ...(counts.groups ? { groups: counts.groups } : {}) }
    : { class_counts: null, class_counts_note: counts.note };
  return { ...known, ...(warnings.length ? { warnings } : {}) };
}

/** Images per class and split, as a small table, and the imbalance warning when there is one. */
function formatCounts(counts: PlanCounts, config: PipelineConfig): string {
  const warnings = classWarnings(counts, config).map((w) => `  warning: ${w}`);
  if (!counts.known) return [`  ${counts.note}`, ...warnings].join("\n") + "\n";
  const splits = ["train", "val", "test"] as const;
  const width = Math.max(5, ...counts.classes.map((c) => c.length));
  const row = (name: string, cells: Array<number | string>): string => `    ${name.padEnd(width)} ${cells.map((n) => String(n).padStart(6)).join("")}`;
  const total = (s: (typeof splits)[number]): number => Object.values(counts.counts[s]).reduce((a, b) => a + b, 0);
  const groups = counts.groups;
  const lines = [
    `  ${splitSourceLine(counts, config)}`,
    "  class counts (from the file names; prepare also drops images it cannot decode):",
    row("class", [...splits]),
    ...counts.classes.map((c) => row(c, splits.map((s) => counts.counts[s][c] ?? 0))),
    row("total", splits.map(total)),
    ...(groups ? [row("groups", splits.map((s) => groups.groups[s]))] : []),
    ...groupLines(counts, isGrouped(config.data.split) && !(counts.layout === "table" && counts.given)),
    ...warnings,
  ];
  return lines.join("\n") + "\n";
}

/** Notes on settings that do something a reader may not expect (nothing wrong: no exit code). */
function configNotes(config: PipelineConfig): string[] {
  const d = stackedDropout(config.head);
  if (!d) return [];
  const r = (x: number): string => String(Number(x.toFixed(2)));
  return [`head.layers[${d.index}].dropout ${r(d.layer)} and head.dropout ${r(d.head)} both act on the last hidden layer's units, one after the other: ` +
    `about ${r(d.effective)} of them are dropped in training (1 - ${r(1 - d.layer)} x ${r(1 - d.head)}); for a single dropout, set one of them to 0`];
}

/** strategy: auto's paragraph, or why there is none yet: the stages listed after it follow from it. */
function formatStrategy({ strategy }: StrategyPlan, forced = false): string {
  if (!strategy) return "";
  if (strategy === "pending")
    return `strategy: auto, not decided yet: ${forced ? "a forced run probes again, whatever a cached probe chose." : "the probe has not run."} \`tlrun run\` runs it first (dataset, weights, prepare, probe), then picks\n` +
      "  the cut, what the head reads, freeze.at and fine-tune, and resolves the later stages again; until then they are listed as the file writes them.\n";
  const probe = strategy.probe.depths.map((d) => `${d.layer} ${d.accuracy.toFixed(2)}`).join(", ");
  return `strategy: auto: ${strategy.paragraph}\n  probe (cached; ${strategy.probe.sample.train} train, ${strategy.probe.sample.val} val images): ${probe}; ${strategy.probe.shape}\n`;
}

/** strategy: auto in `tlrun plan --json`. */
function strategyJson({ strategy }: StrategyPlan): Record<string, unknown> {
  if (!strategy) return {};
  if (strategy === "pending") return { strategy: { mode: "auto", decided: false } };
  const { choice, probe, kept, paragraph } = strategy;
  return { strategy: { mode: "auto", decided: true, size: choice.size, similarity: choice.similarity, cut: choice.cut, head_depths: choice.headDepths ?? null, fine_tune: choice.fineTune, kept, probe, paragraph } };
}

/** The plan as `tlrun plan --json` prints it. */
function planJson(plan: Plan): Record<string, unknown> {
  const stages = plan.stages.map((s) => ({ name: s.name, deps: s.deps, source: s.source, cached: s.cached, key: s.key ?? null, ...(s.note ? { note: s.note } : {}) }));
  const freeze = plan.freeze && { at: plan.freeze.layer, index: plan.freeze.index, frontier: plan.freeze.frontier, groups: plan.freeze.groups.map((g) => ({ from_epoch: g.fromEpoch + 1, lr_factor: g.lrFactor, layers: g.layers.length })) };
  return { name: plan.name, weights: { offline: plan.weights.offline ?? false, note: plan.weights.note }, stages, ...(freeze ? { freeze } : {}) };
}

/** The plan as lines: each stage, whether it runs, its key and what it depends on. */
function formatPlan(plan: Plan): string {
  const lines = [`pipeline ${plan.name}: ${plan.stages.length} stages`];
  plan.stages.forEach((s, i) => {
    const id = s.source ? "" : s.key ? s.key.slice(0, 12) : "(after deps)";
    const offline = s.name === "weights" && !s.cached && !plan.weights.offline ? " (NOT available offline)" : "";
    const what = s.source ? `${s.note}${offline}` : `<- ${s.deps.join(", ") || "-"}`;
    lines.push(`  ${String(i + 1).padStart(2)}. ${s.name.padEnd(11)} ${status(s, plan).padEnd(10)} ${id.padEnd(12)}  ${what}`);
    if (s.warning) lines.push(`      warning: ${s.warning}`);
  });
  const f = plan.freeze;
  if (f) lines.push(`  fine-tune trains from ${f.layer} (layer ${f.index}): ${f.layers.length} layers in ${f.groups.length} group${f.groups.length === 1 ? "" : "s"}`);
  return lines.join("\n") + "\n";
}

export const PLAN_USAGE = `tlrun plan <pipeline.yaml> [--set path=value]... [--force] [--leaks-by <column> | --leaks-pattern <regex>] [--json]
  list the stages in run order and whether each is cached, with its cache key, the cache's size,
  the class counts per split (from the file names) and, for a sweep: block, the trials
    --set path=value   override a config value (repeatable), as for tlrun run
    --force            show the plan of a forced run (every stage runs)
    --leaks-by <column>, --leaks-pattern <regex>
                       count the test images whose group (a labels-file column, or a regex as
                       data.split.group_pattern) also has an image in train, for a split that
                       does not group (with group_by or group_pattern set, plan counts it anyway)
    --json             the plan as one JSON object on stdout`;

/** `tlrun plan <file>`: the stages in run order and whether each will hit the cache. */
export async function planCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { ...SET_OPTION, ...JSON_OPTION, force: { type: "boolean" }, "leaks-by": { type: "string" }, "leaks-pattern": { type: "string" } }, 1, PLAN_USAGE);
  const written = loadPipeline(positionals[0]!, { overrides: values.set ?? [] });
  const resolved = resolveStrategy(written, undefined, { force: values.force });
  const { plan, loaded } = resolved;
  const sweep = written.config.sweep ? planSweep(written, values.set ?? []) : undefined;
  const leaksBy = leaksByOption(values);
  const counts = planCounts(loaded, leaksBy);
  if (leaksBy && !counts.known) throw new UsageError(`cannot count the leak: ${counts.note.replace(/^class counts unknown: /, "")}`);
  const cache = cacheUse(plan);
  const scratch = scratchEstimate(loaded, plan, counts);
  if (values.json) {
    const notes = configNotes(loaded.config);
    process.stdout.write(JSON.stringify({ ...planJson(plan), ...strategyJson(resolved), ...(notes.length ? { notes } : {}), ...countsJson(counts, loaded.config), runs_dir: runsDirOf(loaded), cache, ...(scratch ? { scratch } : {}), ...(sweep ? { sweep } : {}) }) + "\n");
    return EXIT.ok;
  }
  const notes = configNotes(loaded.config).map((n) => `  note: ${n}\n`).join("");
  process.stdout.write(formatStrategy(resolved, values.force === true) + formatPlan(plan) + notes + formatRunsDir(loaded) + formatCacheUse(cache) + formatScratch(scratch) + formatCounts(counts, loaded.config));
  if (sweep) process.stdout.write(formatSweepPlan(sweep));
  return EXIT.ok;
}
