import { readFileSync } from "node:fs";
import { join } from "node:path";
import { AUDIT_DEFAULTS, auditFindings, finderCost, imageSignatures, searchRows, type AuditThresholds, type ImageSignature, type SearchRows } from "../audit";
import type { AuditThresholdsConfig } from "../config/types";
import type { AuditFindings } from "../audit/types";
import { FeatureFile } from "../cache/features";
import { manifestHash, type Manifest } from "../data/manifest";
import { auditDrops } from "../plan/compile";
import { writeFileAtomic } from "../util/atomic";
import { hashRecord } from "../util/hash";
import { etaToken, rateEtaParts } from "../util/progress";
import { Rng } from "../util/rng";
import { AuditEta } from "./audit-eta";
import { auditedManifest, chooseDrops, exactSets, type DroppedImage } from "./audit-drop";
import { AUDIT_JSON, auditRecord, pairEvidence, shownPaths, twinsInTrain, writeAuditCsvs, writeThumbs, type AuditRecord } from "./audit-output";
import { FEATURE_INDEX, type FeatureIndex } from "./extract";
import { MANIFEST_FILE, readManifest } from "./prepare";
import { input, type Stage, type StageContext } from "./types";
import { keepLocksAlive } from "../util/lock";

/**
 * Every image's plain features as one row, `rows` × `dim`, read a block at a time from the extract
 * entry: the whole [avg pooled | max pooled] row the finders were measured on, or for a spatial
 * head (whole feature maps) the mean over the map.
 */
export function pooledFeatures(dir: string): { features: Float32Array; dim: number } {
  const index = JSON.parse(readFileSync(join(dir, FEATURE_INDEX), "utf8")) as FeatureIndex;
  const { dim, rows, spatial } = index;
  const cells = spatial ? spatial[0] * spatial[1] : 1;
  const file = FeatureFile.open(dir, "plain.f32", spatial ? cells * dim : 2 * dim);
  try {
    if (file.rows !== rows) throw new Error("plain.f32 does not match features.json");
    if (index.depths) return { features: cutColumns(file, rows, dim, index.depths.dims[index.depths.dims.length - 1]!), dim: 2 * index.depths.dims[index.depths.dims.length - 1]! };
    if (!spatial) return { features: file.read(Array.from({ length: rows }, (_, i) => i)), dim: 2 * dim };
    const out = new Float32Array(rows * dim);
    for (let start = 0; start < rows; start += 1024) {
      const idx = Array.from({ length: Math.min(1024, rows - start) }, (_, i) => start + i);
      const block = file.read(idx);
      for (let r = 0; r < idx.length; r++)
        for (let c = 0; c < cells; c++) for (let d = 0; d < dim; d++) out[(start + r) * dim + d]! += block[(r * cells + c) * dim + d]! / cells;
    }
    return { features: out, dim };
  } finally {
    file.close();
  }
}

/**
 * With head.depths, a row joins every depth's pooled vector in each half; the finders were
 * measured on the cut's alone, so they get its [avg | max] columns, the last `cutDim` of each half.
 */
function cutColumns(file: FeatureFile, rows: number, dim: number, cutDim: number): Float32Array {
  const out = new Float32Array(rows * 2 * cutDim);
  for (let start = 0; start < rows; start += 1024) {
    const idx = Array.from({ length: Math.min(1024, rows - start) }, (_, i) => start + i);
    const block = file.read(idx);
    for (let r = 0; r < idx.length; r++)
      for (let half = 0; half < 2; half++) {
        const from = r * 2 * dim + half * dim + dim - cutDim;
        out.set(block.subarray(from, from + cutDim), (start + r) * 2 * cutDim + half * cutDim);
      }
  }
  return out;
}

/** What each finder (the keys of AuditFindings.seconds) is doing, on the progress line. */
const FINDER_NAMES: Record<string, string> = {
  neighbours: "nearest neighbours by feature",
  exact_duplicates: "exact duplicates",
  feature_norms: "feature norms",
  phash_pairs: "near duplicates by perceptual hash",
  confirm_pairs: "near duplicates among the feature neighbours",
  feature_pairs: "near duplicates by feature",
  outliers: "outliers",
  standardise: "scaling the features for the label probe",
  label_issues: "label issues (out-of-fold probe)",
};

/** The config's threshold overrides (snake_case, as YAML writes them) by the finders' names. */
export function finderThresholds(t: AuditThresholdsConfig): Partial<AuditThresholds> {
  const names: Record<keyof AuditThresholdsConfig, keyof AuditThresholds> = {
    phash_max_distance: "phashMaxDistance", phash_confirm_distance: "phashConfirmDistance", confirm_min_cosine: "confirmMinCosine", colour_max_distance: "colourMaxDistance", aligned_max_error: "alignedMaxError",
    feature_min_cosine: "featureMinCosine", label_folds: "labelFolds", neighbours: "neighbours", outlier_min_score: "outlierMinScore",
  };
  return Object.fromEntries(Object.entries(t).map(([k, v]) => [names[k as keyof AuditThresholdsConfig], v]));
}

/** Counts the terminal, the run record and the policies read from a cached entry's info. */
function auditInfo(m: Manifest, f: AuditFindings, r: AuditRecord, dropped: DroppedImage[]): Record<string, unknown> {
  const cross = r.duplicates.flatMap((d, i) => (d.splits[0] !== d.splits[1] ? [i] : []));
  return {
    images: m.items.length,
    duplicate_pairs: r.duplicates.length,
    exact_pairs: r.duplicates.filter((d) => d.kind === "exact").length,
    near_pairs: r.duplicates.filter((d) => d.kind === "near").length,
    cross_split_pairs: cross.length,
    test_twins_in_train: twinsInTrain(r, "test"),
    val_twins_in_train: twinsInTrain(r, "val"),
    test_exact_twins_in_train: twinsInTrain(r, "test", true),
    val_exact_twins_in_train: twinsInTrain(r, "val", true),
    exact_sets_within_splits: exactSets(m.items.length, f.duplicates.filter((d) => d.kind === "exact" && m.items[d.a]!.split === m.items[d.b]!.split)).length,
    label_issues: r.label_issues.length,
    outliers: r.outliers.length,
    dropped: dropped.length,
    // the first pairs across splits, for the terminal and for the error of `leakage: error`
    leak_sample: cross.slice(0, 5).map((i) => {
      const d = r.duplicates[i]!;
      return `${d.paths[0]} (${d.splits[0]}) ~ ${d.paths[1]} (${d.splits[1]}), ${pairEvidence(r, i)}`;
    }),
  };
}

/**
 * From this many images on, the finders are priced on a sample before they run: below it they
 * take seconds, and the ETA is the signatures'.
 */
const PRICED_FROM = 5000;
/** The sample: 4% of the images, at least 1,000 (about 3,200 candidate pairs of the neighbour band at 100k). */
const PRICE_SAMPLE_SHARE = 0.04;
const PRICE_SAMPLE_MIN = 1000;

/** audit: duplicates, leaks across splits, likely label errors and outliers, before any training (docs/audit.md). */
export const audit: Stage = {
  name: "audit",
  needsTf: true,
  async run(ctx: StageContext) {
    const manifest = readManifest(input(ctx, "prepare").dir);
    const n = manifest.items.length;
    ctx.progress("reading the cached features");
    const { features, dim } = pooledFeatures(input(ctx, "extract").dir);
    const thresholds: AuditThresholds = { ...AUDIT_DEFAULTS, ...finderThresholds(ctx.config.data.audit.thresholds ?? {}) };
    ctx.progress("preparing the feature neighbour search");
    const prepared: { search?: SearchRows } = { search: searchRows({ features, dim, seed: ctx.config.seed }, keepLocksAlive) };
    // the signatures are taken in a seeded random order, so the first `sampled` are a uniform
    // sample: the finders are priced on it (audit-eta.ts), and the ETA covers the whole stage
    const order = new Rng(ctx.config.seed).shuffle(Array.from({ length: n }, (_, i) => i));
    const sampled = n >= PRICED_FROM ? Math.max(PRICE_SAMPLE_MIN, Math.ceil(PRICE_SAMPLE_SHARE * n)) : n;
    const eta = new AuditEta(n, sampled);
    const show = (done: number): void => {
      eta.signatures(done);
      ctx.progress([`pixel signatures ${done}/${n}`, ...rateEtaParts(eta.rate, eta.seconds, "img/s")].join(", "));
    };
    const paths = order.map((i) => join(ctx.dataDir, manifest.items[i]!.rel));
    const first = await imageSignatures(paths.slice(0, sampled), { onProgress: show });
    let estimate: Record<string, number> = {};
    if (sampled < n) {
      ctx.progress(`pricing the finders on ${sampled} of ${n} images`);
      estimate = finderCost({ items: manifest.items, classes: manifest.classes.length, features, dim, search: prepared.search!, sample: Int32Array.from(order.slice(0, sampled)), signatures: first }, thresholds, keepLocksAlive);
    }
    eta.estimated(estimate);
    const rest = await imageSignatures(paths.slice(sampled), { onProgress: (done) => show(sampled + done) });
    const signatures: ImageSignature[] = new Array(n);
    order.forEach((item, k) => (signatures[item] = k < sampled ? first[k]! : rest[k - sampled]!));
    ctx.checkAbort();
    // tensor work on the run's backend, holding the event loop (seconds at 10k images, about 5
    // minutes at 100k), so the line would stay at "pixel signatures 100000/100000" until the end:
    // a finder that has run for a second is named on it at once, from the ticks it makes anyway
    let current: { name: string; since: number; shown: boolean } | undefined;
    const phase = (name: string): void => {
      eta.phase(name);
      current = { name, since: Date.now(), shown: false };
    };
    const tick = (): void => {
      keepLocksAlive();
      if (!current || current.shown || Date.now() - current.since < 1000) return;
      current.shown = true;
      ctx.note(`${n} images: ${FINDER_NAMES[current.name] ?? current.name.replace(/_/g, " ")}${etaToken(eta.seconds)}`);
    };
    const findings: AuditFindings = auditFindings({ items: manifest.items, classes: manifest.classes, features, dim, signatures, seed: ctx.config.seed }, thresholds, tick, phase, prepared);
    const drop = auditDrops(ctx.config);
    const dropped = drop ? chooseDrops(manifest.items, findings.duplicates, drop) : [];
    const record = auditRecord(manifest, findings, dropped);
    writeAuditCsvs(ctx.out, record);
    await writeThumbs(ctx.out, ctx.dataDir, shownPaths(record));
    writeFileAtomic(join(ctx.out, AUDIT_JSON), JSON.stringify(record satisfies AuditRecord));
    const kept = drop ? auditedManifest(manifest, dropped) : undefined;
    if (kept) writeFileAtomic(join(ctx.out, MANIFEST_FILE), JSON.stringify(kept));
    // with a drop policy the later stages' keys follow what was kept, not how it was found
    return { ...(kept ? { digest: hashRecord({ kept: manifestHash(kept), rows: kept.items.map((it) => [it.row, it.trainRow ?? -1]) }) } : {}), info: { ...auditInfo(manifest, findings, record, dropped), thresholds: findings.thresholds, seconds: findings.seconds, ...(sampled < n ? { priced: { sample: sampled, seconds: estimate } } : {}) } };
  },
};
