import { join } from "node:path";
import sharp from "sharp";
import type { AuditFindings } from "../audit/types";
import type { Manifest } from "../data/manifest";
import type { Split } from "../data/scan";
import { writeFileAtomic } from "../util/atomic";
import type { DroppedImage } from "./audit-drop";

/** What `tlrun audit --json` prints (issue #22 §3): paths relative to data.dir, labels as class names. */
export interface AuditJson {
  duplicates: Array<{ paths: [string, string]; splits: [Split, Split]; similarity: number; kind: "exact" | "near" }>;
  label_issues: Array<{ path: string; label: string; suggested: string; score: number }>;
  outliers: Array<{ path: string; score: number }>;
}

/** The audit entry's `audit.json`: the findings by path, and what the report and the terminal need besides. */
export interface AuditRecord extends AuditJson {
  /** The signal that found each duplicate, in the order of `duplicates`. */
  signals: Array<"pixels" | "phash" | "features">;
  thresholds: Record<string, number>;
  seconds: Record<string, number>;
  dropped: DroppedImage[];
}

/** `thumbs.json`: small JPEG thumbnails (base64) of the images the report shows first, by path; one file, so the entry stays a handful of files. */
export type AuditThumbs = Record<string, string>;

export const AUDIT_JSON = "audit.json";
export const AUDIT_THUMBS = "thumbs.json";
const RANK: Record<Split, number> = { train: 0, val: 1, test: 2 };
export const AUDIT_CSVS = ["duplicates.csv", "label_issues.csv", "outliers.csv", "dropped.csv"] as const;
/** How many of each kind the report shows with thumbnails. */
export const REPORT_TOP = 8;
const THUMB_PX = 112;

/** The findings with paths and class names in place of indices, ranked as the report shows them. */
export function auditRecord(m: Manifest, f: AuditFindings, dropped: DroppedImage[]): AuditRecord {
  const it = m.items;
  // pairs across splits first (the leak check), exact before near, then by score
  const dups = [...f.duplicates].sort((x, y) =>
    Number(it[y.a]!.split !== it[y.b]!.split) - Number(it[x.a]!.split !== it[x.b]!.split) || Number(y.kind === "exact") - Number(x.kind === "exact") || y.similarity - x.similarity || x.a - y.a || x.b - y.b);
  return {
    duplicates: dups.map((d) => {
      // the earlier split first (train, val, test), so a leak reads "train ~ test"
      const [x, y] = RANK[it[d.b]!.split] < RANK[it[d.a]!.split] ? [it[d.b]!, it[d.a]!] : [it[d.a]!, it[d.b]!];
      return { paths: [x.rel, y.rel], splits: [x.split, y.split], similarity: d.similarity, kind: d.kind };
    }),
    signals: dups.map((d) => d.signal),
    label_issues: f.labelIssues.map((l) => ({ path: it[l.index]!.rel, label: m.classes[l.label]!, suggested: m.classes[l.suggested]!, score: l.score })),
    outliers: f.outliers.map((o) => ({ path: it[o.index]!.rel, score: o.score })),
    thresholds: f.thresholds,
    seconds: f.seconds,
    dropped,
  };
}

/** One CSV field, quoted when it must be (RFC 4180). */
const field = (v: string | number): string => {
  const s = String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};
const csv = (head: string[], rows: Array<Array<string | number>>): string => [head, ...rows].map((r) => r.map(field).join(",")).join("\n") + "\n";

/** The CSVs a run keeps under runs/<id>/audit/, one per kind. */
export function writeAuditCsvs(dir: string, r: AuditRecord): void {
  writeFileAtomic(join(dir, "duplicates.csv"), csv(["path_a", "split_a", "path_b", "split_b", "kind", "similarity", "signal"],
    r.duplicates.map((d, i) => [d.paths[0], d.splits[0], d.paths[1], d.splits[1], d.kind, d.similarity, r.signals[i]!])));
  writeFileAtomic(join(dir, "label_issues.csv"), csv(["path", "label", "suggested", "score"], r.label_issues.map((l) => [l.path, l.label, l.suggested, l.score])));
  writeFileAtomic(join(dir, "outliers.csv"), csv(["path", "score"], r.outliers.map((o) => [o.path, o.score])));
  writeFileAtomic(join(dir, "dropped.csv"), csv(["path", "split", "reason", "twin", "twin_split"], r.dropped.map((d) => [d.rel, d.split, d.reason, d.twin, d.twinSplit])));
}

/** The paths the report shows first: the top pairs, label issues and outliers. */
export function shownPaths(r: AuditRecord): string[] {
  const paths = [...r.duplicates.slice(0, REPORT_TOP).flatMap((d) => d.paths), ...r.label_issues.slice(0, REPORT_TOP).map((l) => l.path), ...r.outliers.slice(0, REPORT_TOP).map((o) => o.path)];
  return [...new Set(paths)];
}

/** Thumbnails of `paths` into `dir`/thumbs.json, so the report embeds them with no access to the data folder. */
export async function writeThumbs(dir: string, dataDir: string, paths: readonly string[]): Promise<void> {
  const out: AuditThumbs = {};
  for (const rel of paths) {
    const jpg = await sharp(join(dataDir, rel)).rotate().resize(THUMB_PX, THUMB_PX, { fit: "inside" }).flatten({ background: "#ffffff" }).jpeg({ quality: 82 }).toBuffer();
    out[rel] = jpg.toString("base64");
  }
  writeFileAtomic(join(dir, AUDIT_THUMBS), JSON.stringify(out));
}

/** How many held-out images of `split` have a twin in train (a pixel-identical one, with `exactOnly`). */
export function twinsInTrain(r: AuditJson, split: "val" | "test", exactOnly = false): number {
  const held = new Set<string>();
  for (const d of r.duplicates) {
    if (exactOnly && d.kind !== "exact") continue;
    for (const s of [0, 1] as const) if (d.splits[s] === split && d.splits[1 - s] === "train") held.add(d.paths[s]);
  }
  return held.size;
}

/**
 * What tied a duplicate pair, in words: which signal found it and its own score. A bare
 * "similarity 0.983" under two different clock faces read as "98% the same picture"; it was one
 * bit of 64 in a perceptual hash, or a feature cosine. Every near pair also passed the aligned
 * thumbnail check, which two different pictures with one layout can pass too.
 */
export function pairEvidence(r: Pick<AuditRecord, "duplicates" | "signals">, i: number): string {
  const d = r.duplicates[i]!;
  if (d.kind === "exact") return "exact: pixel-identical";
  switch (r.signals?.[i]) {
    case "phash": return `near: perceptual hash ${Math.round(d.similarity * 64)}/64 bits alike, thumbnails alike`;
    case "features": return `near: hash close, feature cosine ${d.similarity.toFixed(3)}, thumbnails alike`;
    default: return `near, score ${d.similarity.toFixed(3)}`; // an audit.json from before signals were recorded
  }
}
