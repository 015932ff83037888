/**
 * Samples a running command from outside, as `top` and `du` would: the resident memory of its
 * whole process tree (tlrun may start child processes; worker threads count in their process)
 * and the bytes under a few folders (the temp folder, the scratch folder, the caches). Reading
 * /proc and walking folders from the parent measures what the machine pays, whatever tlrun
 * reports about itself.
 */
import { lstatSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const PAGE = 4096;

export interface Sample {
  /** Milliseconds since the command started. */
  t: number;
  /** Summed RSS of the process and all its descendants, MiB. */
  tree_mb: number;
  /** RSS of the largest single process in the tree, MiB. */
  max_proc_mb: number;
  procs: number;
  /** Bytes on disk (allocated blocks, what fills a tmpfs) under each watched folder. */
  bytes: Record<string, number>;
}

/** Parent pid of every process on the machine, from /proc/<pid>/stat. */
function parents(): Map<number, number[]> {
  const kids = new Map<number, number[]>();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      // the command name (field 2) is in parentheses and may hold spaces; ppid is the 2nd field after it
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      const list = kids.get(ppid) ?? [];
      list.push(Number(name));
      kids.set(ppid, list);
    } catch {
      // the process ended between the listing and the read
    }
  }
  return kids;
}

function rssMb(pid: number): number {
  try {
    return (Number(readFileSync(`/proc/${pid}/statm`, "utf8").split(" ")[1]) * PAGE) / 2 ** 20;
  } catch {
    return 0;
  }
}

/** RSS of `root` and its descendants: the sum and the largest single process. */
export function treeRss(root: number): { tree_mb: number; max_proc_mb: number; procs: number } {
  const kids = parents();
  let tree = 0, max = 0, procs = 0;
  const stack = [root];
  while (stack.length) {
    const pid = stack.pop()!;
    const mb = rssMb(pid);
    tree += mb;
    max = Math.max(max, mb);
    procs++;
    stack.push(...(kids.get(pid) ?? []));
  }
  return { tree_mb: tree, max_proc_mb: max, procs };
}

/** Allocated bytes under `dir` (0 when it does not exist); files vanishing mid-walk are skipped. */
export function dirBytes(dir: string): number {
  let total = 0;
  let entries: string[];
  try {
    const st = lstatSync(dir);
    if (!st.isDirectory()) return st.blocks * 512;
    entries = readdirSync(dir);
  } catch {
    return 0;
  }
  for (const name of entries) total += dirBytes(join(dir, name));
  return total;
}

/** Samples `pid` and the folders every `ms` until stopped; `stop` returns every sample and the peaks. */
export function startSampler(pid: number, folders: Record<string, string>, ms = 250): { stop(): { samples: Sample[]; peak: Omit<Sample, "t"> } } {
  const t0 = performance.now();
  const samples: Sample[] = [];
  const take = (): void => {
    const bytes = Object.fromEntries(Object.entries(folders).map(([k, dir]) => [k, dirBytes(dir)]));
    samples.push({ t: Math.round(performance.now() - t0), ...treeRss(pid), bytes });
  };
  take();
  const timer = setInterval(take, ms);
  return {
    stop() {
      clearInterval(timer);
      const peakBytes = Object.fromEntries(Object.keys(folders).map((k) => [k, Math.max(0, ...samples.map((s) => s.bytes[k]!))]));
      const peak = {
        tree_mb: Math.max(...samples.map((s) => s.tree_mb)), max_proc_mb: Math.max(...samples.map((s) => s.max_proc_mb)),
        procs: Math.max(...samples.map((s) => s.procs)), bytes: peakBytes,
      };
      return { samples, peak };
    },
  };
}

/**
 * Samples as CSV text (one header line, one line a sample), which the results JSON holds as one
 * string: 20 minutes of samples as objects, pretty-printed, made a 2 MB file.
 */
export function samplesToCsv(samples: Sample[]): string {
  const folders = Object.keys(samples[0]?.bytes ?? {});
  const head = ["t", "tree_mb", "max_proc_mb", "procs", ...folders.map((f) => `bytes_${f}`)].join(",");
  const rows = samples.map((s) => [s.t, s.tree_mb.toFixed(1), s.max_proc_mb.toFixed(1), s.procs, ...folders.map((f) => s.bytes[f])].join(","));
  return [head, ...rows].join("\n");
}

export function samplesFromCsv(csv: string): Sample[] {
  const [head, ...rows] = csv.split("\n");
  const cols = head!.split(",");
  return rows.map((row) => {
    const v = row.split(",").map(Number);
    const get = (c: string): number => v[cols.indexOf(c)]!;
    const bytes = Object.fromEntries(cols.filter((c) => c.startsWith("bytes_")).map((c) => [c.slice(6), get(c)]));
    return { t: get("t"), tree_mb: get("tree_mb"), max_proc_mb: get("max_proc_mb"), procs: get("procs"), bytes };
  });
}
