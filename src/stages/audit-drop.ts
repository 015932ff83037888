import { existsSync } from "node:fs";
import { join } from "node:path";
import type { DuplicateFinding } from "../audit/types";
import { countSplits, type Manifest } from "../data/manifest";
import type { Split } from "../data/scan";
import { readManifest } from "./prepare";
import { input, type StageContext } from "./types";

/** An image a drop policy leaves out of training and evaluation, and the twin it was dropped for. */
export interface DroppedImage {
  index: number;
  rel: string;
  split: Split;
  reason: "leakage" | "duplicate";
  twin: string;
  twinSplit: Split;
}

const RANK: Record<Split, number> = { train: 0, val: 1, test: 2 };

/** Indices of `n` items grouped by the pairs given (union-find), each group in index order: exact copies, however the finder lists them. */
export function exactSets(n: number, pairs: readonly DuplicateFinding[]): number[][] {
  const parent = Array.from({ length: n }, (_, i) => i);
  const root = (i: number): number => (parent[i] === i ? i : (parent[i] = root(parent[i]!)));
  for (const p of pairs) parent[Math.max(root(p.a), root(p.b))] = Math.min(root(p.a), root(p.b));
  const sets = new Map<number, number[]>();
  for (const p of pairs) for (const i of [p.a, p.b]) if (!sets.get(root(i))?.includes(i)) sets.set(root(i), [...(sets.get(root(i)) ?? []), i]);
  return [...sets.values()].map((s) => s.sort((x, y) => x - y));
}

/**
 * What the drop policies leave out. Leakage: of a pair in two splits (exact or near), the member in
 * the later split (test after val after train), so train keeps its images and a held-out twin goes.
 * Duplicates: of each set of exact copies within one split, all but the first. Near pairs within
 * one split are never dropped: real datasets hold genuine look-alikes.
 */
export function chooseDrops(
  items: Manifest["items"], duplicates: readonly DuplicateFinding[], drop: { leakage: boolean; duplicates: boolean },
): DroppedImage[] {
  const out = new Map<number, DroppedImage>();
  const add = (index: number, twin: number, reason: DroppedImage["reason"]): void => {
    if (out.has(index) || out.has(twin)) return; // a twin already dropped no longer leaks through this pair
    out.set(index, { index, rel: items[index]!.rel, split: items[index]!.split, reason, twin: items[twin]!.rel, twinSplit: items[twin]!.split });
  };
  if (drop.leakage)
    for (const p of duplicates) {
      const [sa, sb] = [items[p.a]!.split, items[p.b]!.split];
      if (sa !== sb) RANK[sa] > RANK[sb] ? add(p.a, p.b, "leakage") : add(p.b, p.a, "leakage");
    }
  if (drop.duplicates) {
    const within = duplicates.filter((p) => p.kind === "exact" && items[p.a]!.split === items[p.b]!.split);
    for (const set of exactSets(items.length, within)) for (const i of set.slice(1)) add(i, set[0]!, "duplicate");
  }
  return [...out.values()].sort((x, y) => x.index - y.index);
}

/**
 * prepare's manifest without the dropped images. Each kept item says where its features are
 * (`row`, `trainRow`), since the extract entry holds every image in prepare's order.
 */
export function auditedManifest(m: Manifest, dropped: readonly DroppedImage[]): Manifest {
  const gone = new Set(dropped.map((d) => d.index));
  let trainRow = 0;
  const items: Manifest["items"] = [];
  m.items.forEach((it, row) => {
    const t = it.split === "train" ? trainRow++ : undefined;
    if (!gone.has(row)) items.push({ ...it, row, ...(t !== undefined ? { trainRow: t } : {}) });
  });
  const skipped = [...m.skipped, ...dropped.map((d) => ({ rel: d.rel, reason: `dropped by the audit: ${d.reason === "leakage" ? `a twin of ${d.twin} (${d.twinSplit})` : `a copy of ${d.twin}`}` }))];
  return { ...m, items, skipped, counts: countSplits(m.classes, items) };
}

/** The manifest the training and evaluation stages use: the audit's when a drop policy made one, else prepare's. */
export function trainingManifest(ctx: StageContext): Manifest {
  const audit = ctx.inputs.get("audit");
  if (audit && existsSync(join(audit.dir, "manifest.json"))) return readManifest(audit.dir);
  return readManifest(input(ctx, "prepare").dir);
}
