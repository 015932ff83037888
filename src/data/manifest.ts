import { readFile } from "node:fs/promises";
import { TlrunError } from "../errors";
import { sha256, hashRecord } from "../util/hash";
import { deriveSeed } from "../util/rng";
import { probeBuffer } from "./decode";
import { mapLimit } from "./pool";
import type { ScanResult, Split } from "./scan";
import { assignSplits, type SplitRatios } from "./split";

export const SPLITS: readonly Split[] = ["train", "val", "test"];

/** One usable image; paths are relative to data.dir so the manifest does not depend on where it lives. */
export interface ManifestItem {
  rel: string;
  /** Index into `classes`. */
  label: number;
  split: Split;
  sha256: string;
  width: number;
  height: number;
  /**
   * Set in the audit's manifest, which leaves out what a drop policy dropped: the item's row in the
   * extract stage's features (its index in prepare's manifest), and for a train item its row in
   * the augmented copies (its index among prepare's train items). Absent: the item's own index.
   */
  row?: number;
  trainRow?: number;
}

/** The prepare stage's output: which images exist, which split each belongs to, and what was left out. */
export interface Manifest {
  version: 1;
  classes: string[];
  items: ManifestItem[];
  bad: Array<{ rel: string; reason: string }>;
  skipped: Array<{ rel: string; reason: string }>;
  counts: Record<Split, Record<string, number>>;
}

export interface ManifestOptions {
  seed: number;
  split: SplitRatios;
  maxPixels: number;
  onBadImage: "skip" | "fail";
  concurrency?: number;
  /** Told after each file is hashed and probed: files done so far and the bytes they held. */
  onProgress?(files: number, bytes: number): void;
}

/**
 * Hash and probe every scanned image, then assign splits: a presplit layout keeps its folders;
 * otherwise a seeded (optionally stratified) split that depends only on the seed and file paths.
 */
export async function buildManifest(scan: ScanResult, opts: ManifestOptions): Promise<Manifest> {
  let files = 0;
  let bytes = 0;
  const checked = await mapLimit(scan.items, opts.concurrency ?? 16, async (item) => {
    const c = await checkFile(item, opts.maxPixels);
    bytes += c.bytes;
    opts.onProgress?.(++files, bytes);
    return c;
  });
  const bad = checked.flatMap((c) => (c.probe.ok ? [] : [{ rel: c.item.rel, reason: c.probe.reason }]));
  if (bad.length > 0 && opts.onBadImage === "fail") throw badImagesError(bad);

  const good = checked.filter((c) => c.probe.ok);
  const skipped = [...scan.skipped];
  const classes = scan.classes.filter((cls) => {
    const has = good.some((c) => c.item.label === cls);
    if (!has) skipped.push({ rel: cls, reason: "class has no readable images" });
    return has;
  });
  const labelOf = new Map(classes.map((c, i) => [c, i]));
  const items: ManifestItem[] = good.map(({ item, hash, probe }) => ({
    rel: item.rel,
    label: labelOf.get(item.label)!,
    split: item.split ?? "train",
    sha256: hash,
    width: probe.ok ? probe.width : 0,
    height: probe.ok ? probe.height : 0,
  }));
  placeSplits(items, scan.layout, classes, opts.seed, opts.split);
  return { version: 1, classes, items, bad, skipped, counts: countSplits(classes, items) };
}

/** Read one image, hash it and probe its header. */
async function checkFile(item: ScanResult["items"][number], maxPixels: number) {
  const buf = await readFile(item.abs).catch((err: NodeJS.ErrnoException) => err);
  if (buf instanceof Error) return { item, bytes: 0, hash: "", probe: { ok: false as const, reason: `cannot read file (${buf.code ?? "error"})` } };
  return { item, bytes: buf.length, hash: sha256(buf), probe: await probeBuffer(buf, maxPixels) };
}

/** Hash of what training depends on: class names and each item's path, label, split and content. */
export function manifestHash(m: Manifest): string {
  return hashRecord({ classes: m.classes, items: m.items.map((i) => [i.rel, i.label, i.split, i.sha256]) });
}

/**
 * Sort items by path and, for a folder of class subfolders, assign the seeded split: a pure
 * function of the paths, labels and seed. A presplit layout keeps the split of its folders.
 * Shared by prepare and by `tlrun plan`'s class counts, which must agree.
 */
export function placeSplits<T extends { rel: string; label: number; split: Split }>(items: T[], layout: ScanResult["layout"], classes: string[], seed: number, ratios: SplitRatios): void {
  items.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
  if (layout === "classes") assignSplits(items, ratios, deriveSeed(seed, "split"), classes);
}

/** Images per split and class name. */
export function countSplits(classes: string[], items: ReadonlyArray<{ label: number; split: Split }>): Record<Split, Record<string, number>> {
  const counts = {} as Record<Split, Record<string, number>>;
  for (const s of SPLITS) counts[s] = Object.fromEntries(classes.map((c) => [c, 0]));
  for (const i of items) counts[i.split][classes[i.label]!]!++;
  return counts;
}

function badImagesError(bad: Array<{ rel: string; reason: string }>): TlrunError {
  const shown = bad.slice(0, 5).map((b) => `  ${b.rel}: ${b.reason}`);
  const more = bad.length > 5 ? [`  ... and ${bad.length - 5} more`] : [];
  return new TlrunError(
    [`${bad.length} image${bad.length === 1 ? "" : "s"} in data.dir cannot be decoded:`, ...shown, ...more].join("\n") +
      "\n  hint: fix or delete them, or set data.on_bad_image: skip to leave them out",
  );
}

