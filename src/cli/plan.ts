import { loadConfig } from "../config";
import { EXIT } from "../errors";
import { planStatus } from "../executor/status";
import { JSON_OPTION, SET_OPTION, parse } from "./args";

/** `tlrun plan <file>`: the stages in run order and whether each will hit the cache. */
export async function planCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { ...SET_OPTION, ...JSON_OPTION, force: { type: "boolean" } }, 1);
  const loaded = loadConfig(positionals[0]!, { overrides: values.set ?? [] });
  const { plan, stages } = planStatus(loaded, { force: values.force });
  if (values.json) {
    const out = stages.map((s) => ({ name: s.name, deps: plan.stages.find((n) => n.name === s.name)!.deps, cached: s.cached, key: s.key ?? null }));
    process.stdout.write(JSON.stringify({ name: plan.name, stages: out }) + "\n");
    return EXIT.ok;
  }
  process.stdout.write(`pipeline ${plan.name}: ${stages.length} stages\n`);
  stages.forEach((s, i) => {
    const deps = plan.stages[i]!.deps.join(", ") || "-";
    const status = s.cached ? "cached" : "will run";
    process.stdout.write(`  ${String(i + 1).padStart(2)}. ${s.name.padEnd(11)} ${status.padEnd(9)} ${s.key ? s.key.slice(0, 12) : "(after deps)".padEnd(12)}  <- ${deps}\n`);
    if (s.warning) process.stdout.write(`      warning: ${s.warning}\n`);
  });
  return EXIT.ok;
}
