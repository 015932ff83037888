import { spawnSync } from "node:child_process";

/** The commit checked out where `dir` lives, when that is inside a git work tree. */
export function gitCommit(dir: string): string | undefined {
  const r = spawnSync("git", ["rev-parse", "HEAD"], { cwd: dir, encoding: "utf8", timeout: 5000 });
  return r.status === 0 ? r.stdout.trim() || undefined : undefined;
}
