import { homedir } from "node:os";
import { join } from "node:path";

/** tlrun's cache folder: TLRUN_CACHE, else $XDG_CACHE_HOME/tlrun, else ~/.cache/tlrun. */
export function cacheRoot(): string {
  return process.env.TLRUN_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "tlrun");
}
