/** The audit's finders, for the audit stage: signatures from the pixels, then every finding from them and the features. */
export { AUDIT_DEFAULTS, auditFindings, type AuditThresholds } from "./findings";
export { imageSignatures } from "./signatures";
export type * from "./types";
