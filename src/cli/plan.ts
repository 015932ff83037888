import { loadPipeline } from "../executor/load";
import { EXIT } from "../errors";
import { planStatus } from "../executor/status";
import { describeBase } from "../models/source";
import { formatSweepPlan, planSweep } from "../sweep/plan";
import { JSON_OPTION, SET_OPTION, parse } from "./args";

/** `tlrun plan <file>`: the stages in run order and whether each will hit the cache. */
export async function planCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { ...SET_OPTION, ...JSON_OPTION, force: { type: "boolean" } }, 1);
  const loaded = loadPipeline(positionals[0]!, { overrides: values.set ?? [] });
  const { plan, stages } = planStatus(loaded, { force: values.force });
  const sweep = loaded.config.sweep ? planSweep(loaded, values.set ?? []) : undefined;
  if (values.json) {
    const out = stages.map((s) => ({ name: s.name, deps: plan.stages.find((n) => n.name === s.name)!.deps, cached: s.cached, key: s.key ?? null }));
    const w = describeBase(loaded.config.base.model, loaded.config.base.weights, loaded.baseDir);
    process.stdout.write(JSON.stringify({ name: plan.name, weights: { offline: w.offline, note: w.note }, stages: out, ...(sweep ? { sweep } : {}) }) + "\n");
    return EXIT.ok;
  }
  const c = loaded.config;
  const weights = describeBase(c.base.model, c.base.weights, loaded.baseDir);
  process.stdout.write(`pipeline ${plan.name}: ${stages.length} stages\n`);
  process.stdout.write(`  base ${c.base.model}: ${weights.note}${weights.offline ? "" : " (NOT available offline)"}\n`);
  stages.forEach((s, i) => {
    const deps = plan.stages[i]!.deps.join(", ") || "-";
    const status = s.cached ? "cached" : "will run";
    process.stdout.write(`  ${String(i + 1).padStart(2)}. ${s.name.padEnd(11)} ${status.padEnd(9)} ${s.key ? s.key.slice(0, 12) : "(after deps)".padEnd(12)}  <- ${deps}\n`);
    if (s.warning) process.stdout.write(`      warning: ${s.warning}\n`);
  });
  if (sweep) process.stdout.write(formatSweepPlan(sweep));
  return EXIT.ok;
}
