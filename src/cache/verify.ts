import type { EntryInfo } from "./inventory";
import { checkEntryFiles, readEntryMeta } from "./store";

export interface VerifyResult {
  entry: EntryInfo;
  /** ok: every file matches its digest; legacy: recorded before digests, only sizes could be checked. */
  status: "ok" | "damaged" | "legacy";
  detail?: string;
}

/** Hash every file of an entry, large feature files included, against what its commit recorded. */
export function verifyEntry(entry: EntryInfo): VerifyResult {
  try {
    const meta = readEntryMeta(entry.dir);
    if (meta.stage !== entry.stage || meta.key !== entry.key) return { entry, status: "damaged", detail: "meta.json names another entry" };
    const wrong = checkEntryFiles(entry.dir, meta, true);
    if (wrong) return { entry, status: "damaged", detail: wrong };
    return meta.digests ? { entry, status: "ok" } : { entry, status: "legacy", detail: "recorded before digests: sizes match, content not checkable" };
  } catch (err) {
    return { entry, status: "damaged", detail: (err as Error).message };
  }
}
