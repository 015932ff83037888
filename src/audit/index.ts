/** The audit's finders, for the audit stage: signatures from the pixels, then every finding from them and the features. */
export { AUDIT_DEFAULTS, auditFindings, searchRows, type AuditThresholds, type SearchRows } from "./findings";
export { finderCost } from "./finder-cost";
export { imageSignatures } from "./signatures";
export type * from "./types";
