import { pairEvidence, twinsInTrain, type AuditJson, type AuditRecord } from "../stages/audit-output";

const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

/** The audit's findings in the issue's --json shape: the three lists, nothing else. */
export function auditJson(r: AuditRecord): AuditJson {
  return { duplicates: r.duplicates, label_issues: r.label_issues, outliers: r.outliers };
}

/** `tlrun audit`'s short terminal summary: the leak count first, then each kind with its first few. */
export function formatAudit(r: AuditRecord, where: string, color: boolean): string {
  const c = (code: string, s: string): string => (color ? `\x1b[${code}m${s}\x1b[0m` : s);
  const cross = r.duplicates.filter((d) => d.splits[0] !== d.splits[1]);
  const [test, val] = [twinsInTrain(r, "test"), twinsInTrain(r, "val")];
  const exact = twinsInTrain(r, "test", true) + twinsInTrain(r, "val", true);
  const out: string[] = [];
  out.push(cross.length
    ? c("1;31", `LEAK: ${plural(test, "test image")} and ${plural(val, "val image")} have a twin in train (${plural(cross.length, "pair")} across splits; ${exact} of these images pixel-identical, the rest near: copies or look-alikes)`)
    : c("32", "no duplicates across splits"));
  const exactPairs = r.duplicates.filter((d) => d.kind === "exact").length;
  out.push(`duplicates:   ${plural(r.duplicates.length, "pair")} (${exactPairs} exact, ${r.duplicates.length - exactPairs} near)`);
  r.duplicates.slice(0, 5).forEach((d, i) => out.push(`  ${d.paths[0]} (${d.splits[0]}) ~ ${d.paths[1]} (${d.splits[1]})  ${pairEvidence(r, i)}`));
  out.push(`label issues: ${r.label_issues.length} doubted by an out-of-sample probe (likeliest errors first)`);
  for (const l of r.label_issues.slice(0, 5)) out.push(`  ${l.path}  ${l.label} -> ${l.suggested}  ${l.score.toFixed(3)}`);
  out.push(`outliers:     ${r.outliers.length}`);
  for (const o of r.outliers.slice(0, 3)) out.push(`  ${o.path}  ${o.score.toFixed(3)}`);
  if (r.dropped.length) out.push(c("33", `dropped:      ${plural(r.dropped.length, "image")} (a run leaves them out of training and evaluation)`));
  out.push(`every finding: ${where}/{duplicates,label_issues,outliers}.csv`);
  return out.join("\n") + "\n";
}
