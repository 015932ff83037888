/**
 * The group an image belongs to, from `data.split.group_pattern`. A pattern with a "/" is searched
 * in the path relative to data.dir (so it can name a patient folder); one without, in the file's
 * name alone, so ChestX-ray14's `^(\d+)_` finds patient 13 in `images/00000013_005.png` whatever
 * folders lie above. The group is the first capture group, or the whole match when the pattern
 * captures nothing; undefined when it does not match (or captures an empty string).
 */
export function groupFromPattern(rel: string, pattern: RegExp): string | undefined {
  const subject = pattern.source.includes("/") ? rel : rel.slice(rel.lastIndexOf("/") + 1);
  const m = pattern.exec(subject);
  if (!m) return undefined;
  const group = m.length > 1 ? m[1] : m[0];
  return group ? group : undefined;
}


/** How a pipeline names its groups: `data.split.group_pattern` or `group_by`; empty or absent is unset. */
export interface GroupSettings {
  group_pattern?: string;
  group_by?: string;
}

/** An image as far as its group is concerned: its path and, from a labels file, its other columns. */
export interface GroupSubject {
  rel: string;
  columns?: Readonly<Record<string, string>>;
}

/** Each item's group, in order, and the items that have none (the pattern does not match, the column is empty). */
export function groupsOf(items: readonly GroupSubject[], settings: GroupSettings): { groups: Array<string | undefined>; missing: string[] } {
  const pattern = settings.group_pattern ? new RegExp(settings.group_pattern) : undefined;
  const column = settings.group_by;
  const groups = items.map((i) => (pattern ? groupFromPattern(i.rel, pattern) : column ? i.columns?.[column]?.trim() || undefined : undefined));
  return { groups, missing: items.filter((_, k) => groups[k] === undefined).map((i) => i.rel) };
}

/** Whether the settings ask for a grouped split. */
export const isGrouped = (s: GroupSettings): boolean => !!s.group_pattern || !!s.group_by;

/** What `missing` means, in one line with up to three examples: "group_pattern '^(\d+)_' matches no group in 3 of 1900 images: a.png, ...". */
export function missingGroupsMessage(settings: GroupSettings, missing: readonly string[], total: number): string {
  const what = settings.group_pattern ? `data.split.group_pattern '${settings.group_pattern}' finds no group in` : `data.split.group_by column '${settings.group_by}' is empty for`;
  const shown = missing.slice(0, 3).join(", ") + (missing.length > 3 ? ", ..." : "");
  return `${what} ${missing.length === total ? "any image" : `${missing.length} of ${total} images`}: ${shown}`;
}
