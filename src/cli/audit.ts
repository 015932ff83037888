import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { BackendChoice, LoadedConfig } from "../config/types";
import { execute } from "../executor/execute";
import { loadPipeline } from "../executor/load";
import { interruptible } from "./interrupt";
import { EXIT, UsageError } from "../errors";
import { auditJson, formatAudit } from "../report/audit-terminal";
import type { RunSummary } from "../runs/record";
import { AUDIT_JSON, type AuditRecord } from "../stages/audit-output";
import { JSON_OPTION, SET_OPTION, parse } from "./args";
import { attachRun } from "./json-failure";
import { BACKENDS } from "./run";
import { useColor } from "./color";

export const AUDIT_USAGE = `tlrun audit <pipeline.yaml> [--set path=value]... [--force] [--backend NAME] [--json]
  run the prepare, extract and audit stages only (each from the cache when it can), and print what
  the audit found: duplicate and near-duplicate pairs (pairs across splits are leaks), likely label
  errors and outliers. Runs the audit even when data.audit.enabled is false, and reports a leak
  instead of stopping on it (data.audit.leakage: error applies to 'tlrun run').
    --set path=value   override a config value (repeatable)
    --force            re-run the stages, ignoring the cache
    --backend NAME     ${BACKENDS.join(" | ")}
    --json             print one object on stdout: {"duplicates": [{"paths", "splits", "similarity",
                       "kind"}], "label_issues": [{"path", "label", "suggested", "score"}],
                       "outliers": [{"path", "score"}]}, paths relative to data.dir
  the run folder keeps audit/*.csv and a report.html with the audit section
  exit codes: 0 ok (whatever was found), 1 failed, 2 invalid config or usage, 130 interrupted`;

/** The config with the audit on and a leak reported rather than fatal; drop policies stay, so a later run reuses this audit. */
function auditing(loaded: LoadedConfig): LoadedConfig {
  const a = loaded.config.data.audit;
  const audit = { ...a, enabled: true, leakage: a.leakage === "error" ? ("warn" as const) : a.leakage };
  return { ...loaded, config: { ...loaded.config, data: { ...loaded.config.data, audit } } };
}

/** `tlrun audit <file>`: prepare, extract and audit, then the findings on the terminal or as one JSON object. */
export async function auditCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { ...SET_OPTION, ...JSON_OPTION, force: { type: "boolean" }, backend: { type: "string" } }, 1, AUDIT_USAGE);
  if (values.backend && !BACKENDS.includes(values.backend))
    throw new UsageError(`--backend ${values.backend} is not a backend; write one of ${BACKENDS.join(", ")}`);
  const loaded = auditing(loadPipeline(positionals[0]!, { overrides: values.set ?? [] }));
  const stop = interruptible("stopping after the current batch");
  let ended: RunSummary | undefined;
  try {
    const summary = await execute(loaded, {
      until: "audit", force: values.force, backend: values.backend as BackendChoice | undefined, signal: stop.signal, stream: process.stderr,
      observers: [{ onRunEnd: (s) => void (ended = s) }],
    });
    const dir = join(summary.run_dir, "audit");
    const record = JSON.parse(readFileSync(join(dir, AUDIT_JSON), "utf8")) as AuditRecord;
    if (values.json) process.stdout.write(JSON.stringify(auditJson(record)) + "\n");
    else process.stdout.write(formatAudit(record, dir, useColor(process.stdout)));
    return EXIT.ok;
  } catch (err) {
    throw attachRun(err, ended);
  } finally {
    stop.dispose();
  }
}
