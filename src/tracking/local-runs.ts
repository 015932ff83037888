import { existsSync, readdirSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import { UsageError } from "../errors";

/** Every run folder (one holding summary.json) under runs/, oldest first. */
export function runFolders(runsDir: string): string[] {
  if (!existsSync(runsDir)) return [];
  return readdirSync(runsDir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(runsDir, d.name, "summary.json")))
    .map((d) => join(runsDir, d.name))
    .sort();
}

/** A run id under runs/, or a path to a run folder. */
export function findRun(runsDir: string, idOrPath: string): string {
  const candidates = [isAbsolute(idOrPath) || idOrPath.includes("/") ? resolve(idOrPath) : join(runsDir, idOrPath)];
  for (const c of candidates) if (existsSync(join(c, "summary.json"))) return c;
  const near = runFolders(runsDir).map((d) => d.split(/[\\/]/).pop()!).filter((n) => n.includes(idOrPath));
  throw new UsageError(`no run '${idOrPath}' in ${runsDir}${near.length ? `; did you mean ${near.slice(0, 3).join(" or ")}?` : " (pass --runs-dir, or a path to a run folder)"}`);
}
