import { existsSync, lstatSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { hashRecord } from "../util/hash";

/**
 * A cheap fingerprint of a data folder: every file's relative path, size and mtime. Prepare's
 * cache key uses it, so an untouched folder is recognised without reading a single image.
 */
export function datasetFingerprint(dir: string): string {
  if (!existsSync(dir)) return "missing";
  const rows: Array<[string, number, number]> = [];
  const walk = (abs: string, rel: string): void => {
    for (const name of readdirSync(abs).sort()) {
      const p = join(abs, name);
      const r = rel ? `${rel}/${name}` : name;
      const st = lstatSync(p);
      if (st.isDirectory()) walk(p, r);
      else rows.push([r, st.size, Math.round(st.mtimeMs)]);
    }
  };
  walk(dir, "");
  return hashRecord(rows);
}
