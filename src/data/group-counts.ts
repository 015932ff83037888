import type { Split } from "./scan";

/** What `tlrun plan` shows of the groups: how many per split, the leak, and groups whose images disagree on the class. */
export interface GroupCounts {
  /** How the groups were named: "group_by lesion_id" or "group_pattern '^(\d+)_'". */
  by: string;
  groups: Record<Split, number>;
  /** Test images whose group also has an image in train: 0 whenever the split keeps groups whole. */
  leaked_test_images: number;
  /** Groups whose images carry more than one class, and one of them with its classes. */
  mixed_groups: number;
  mixed_example?: { group: string; classes: string[] };
}

/** Count groups per split, the test images whose group sits in train too, and the groups of mixed class. */
export function groupCounts(items: ReadonlyArray<{ label: number; split: Split; group: string }>, classes: readonly string[], by: string): GroupCounts {
  const splitsOf = new Map<string, Set<Split>>();
  const labelsOf = new Map<string, Set<number>>();
  for (const i of items) {
    splitsOf.set(i.group, (splitsOf.get(i.group) ?? new Set()).add(i.split));
    labelsOf.set(i.group, (labelsOf.get(i.group) ?? new Set()).add(i.label));
  }
  const groups: Record<Split, number> = { train: 0, val: 0, test: 0 };
  for (const s of splitsOf.values()) for (const split of s) groups[split]++;
  const leaked = items.filter((i) => i.split === "test" && splitsOf.get(i.group)!.has("train")).length;
  const mixed = [...labelsOf].filter(([, l]) => l.size > 1).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const example = mixed[0] && { group: mixed[0][0], classes: [...mixed[0][1]].sort((a, b) => a - b).map((l) => classes[l]!) };
  return { by, groups, leaked_test_images: leaked, mixed_groups: mixed.length, ...(example ? { mixed_example: example } : {}) };
}

/** "group_by lesion_id" or "group_pattern '^(\d+)_'": how plan names the grouping. */
export function groupingName(s: { group_by?: string; group_pattern?: string }): string {
  return s.group_pattern ? `group_pattern '${s.group_pattern}'` : `group_by ${s.group_by}`;
}
